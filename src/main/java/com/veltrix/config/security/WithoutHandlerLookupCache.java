package com.veltrix.config.security;

import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.security.config.annotation.web.configuration.EnableWebSecurity;
import org.springframework.security.web.FilterChainProxy;

/**
 * Registers the security filter chain without the filter Spring Security puts in front of it when
 * Spring MVC is present ({@code HandlerMappingIntrospector.createCacheFilter()}, wrapped with the
 * chain in a {@code CompositeFilterChainProxy} by {@code WebMvcSecurityConfiguration}). That filter
 * looks up every request's MVC handler before the chain runs, for MVC request matchers to reuse;
 * the {@link org.springframework.web.servlet.DispatcherServlet} then looks it up again: 6 % of a
 * REST point read's samples (docs/performance.md). This service's matchers are path patterns
 * ({@link WebSecurity#pathPatternMatchers()}) and it configures no CORS, so nothing in the chain
 * asks for the handler. {@code RouteAuthorizationTest} walks every route and method with every
 * scope either way.
 *
 * <p>The chain is an inner bean of the composite, and bean post-processors see inner beans: the
 * plain {@link FilterChainProxy} is kept when it is built, and registered under {@value
 * #CHAIN_BEAN} in place of the composite. Should a release of Spring Security stop wrapping the
 * chain, or wrap it differently, nothing is replaced.
 */
final class WithoutHandlerLookupCache implements BeanPostProcessor {

  /** {@link EnableWebSecurity}'s filter bean, which Spring Boot registers with the servlet. */
  static final String CHAIN_BEAN = "springSecurityFilterChain";

  private FilterChainProxy chain;

  @Override
  public Object postProcessAfterInitialization(Object bean, String beanName) {
    if (!(bean instanceof FilterChainProxy proxy)) {
      return bean;
    }
    if (proxy.getClass() == FilterChainProxy.class) {
      chain = proxy; // the chain itself (an inner bean of the composite, or the bean)
      return bean;
    }
    if (CHAIN_BEAN.equals(beanName)
        && proxy.getClass().getSimpleName().equals("CompositeFilterChainProxy")
        && chain != null
        && chain.getFilterChains().equals(proxy.getFilterChains())) {
      return chain;
    }
    return bean;
  }
}
