package com.veltrix.config.security;

import com.veltrix.config.grpc.v1.ConfigServiceGrpc;
import io.grpc.health.v1.HealthGrpc;
import java.util.List;
import net.devh.boot.grpc.server.security.authentication.BearerAuthenticationReader;
import net.devh.boot.grpc.server.security.authentication.GrpcAuthenticationReader;
import net.devh.boot.grpc.server.security.check.AccessPredicate;
import net.devh.boot.grpc.server.security.check.AccessPredicateVoter;
import net.devh.boot.grpc.server.security.check.GrpcSecurityMetadataSource;
import net.devh.boot.grpc.server.security.check.ManualGrpcSecurityMetadataSource;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.security.access.AccessDecisionManager;
import org.springframework.security.access.vote.UnanimousBased;
import org.springframework.security.authentication.AuthenticationManager;
import org.springframework.security.authentication.ProviderManager;
import org.springframework.security.core.authority.SimpleGrantedAuthority;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.server.resource.authentication.BearerTokenAuthenticationToken;
import org.springframework.security.oauth2.server.resource.authentication.JwtAuthenticationProvider;

/**
 * Who may call what over gRPC: the bearer token in the {@code authorization} metadata, the same
 * decoder and scopes as REST. Missing or invalid token: UNAUTHENTICATED; a valid token without the
 * scope: PERMISSION_DENIED. The health service stays open (probes carry no token).
 */
@Configuration(proxyBeanMethods = false)
@SuppressWarnings("deprecation") // the starter's authorisation still speaks AccessDecisionManager
class GrpcSecurity {

  @Bean
  GrpcAuthenticationReader grpcAuthenticationReader() {
    return new BearerAuthenticationReader(BearerTokenAuthenticationToken::new);
  }

  @Bean
  AuthenticationManager grpcAuthenticationManager(JwtDecoder decoder) {
    return new ProviderManager(new JwtAuthenticationProvider(decoder));
  }

  @Bean
  GrpcSecurityMetadataSource grpcSecurityMetadataSource() {
    AccessPredicate read =
        AccessPredicate.hasAuthority(new SimpleGrantedAuthority(Scopes.READ_AUTHORITY));
    AccessPredicate write =
        AccessPredicate.hasAuthority(new SimpleGrantedAuthority(Scopes.WRITE_AUTHORITY));
    return new ManualGrpcSecurityMetadataSource()
        .set(ConfigServiceGrpc.getListActiveMethod(), read)
        .set(ConfigServiceGrpc.getGetConfigsMethod(), read)
        .set(ConfigServiceGrpc.getWatchChangesMethod(), read)
        .set(ConfigServiceGrpc.getListSchedulesMethod(), read)
        .set(ConfigServiceGrpc.getPutConfigsMethod(), write)
        .set(HealthGrpc.getServiceDescriptor(), AccessPredicate.permitAll())
        .setDefault(read); // server reflection: anyone who may read the configuration
  }

  @Bean
  AccessDecisionManager grpcAccessDecisionManager() {
    return new UnanimousBased(List.of(new AccessPredicateVoter()));
  }
}
