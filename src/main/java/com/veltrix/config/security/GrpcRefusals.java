package com.veltrix.config.security;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.Status;
import net.devh.boot.grpc.common.util.InterceptorOrder;
import net.devh.boot.grpc.server.interceptor.GrpcGlobalServerInterceptor;
import net.devh.boot.grpc.server.security.interceptors.ExceptionTranslatingServerInterceptor;
import org.springframework.core.annotation.Order;
import org.springframework.security.access.AccessDeniedException;
import org.springframework.security.core.AuthenticationException;

/**
 * UNAUTHENTICATED and PERMISSION_DENIED with what REST's 401 and 403 say ({@link
 * ProblemResponses}): no token, or why a token was refused (expired, malformed, signature), where
 * the starter's interceptor, which this one takes the place of, said "Authentication failed" to
 * each.
 */
@GrpcGlobalServerInterceptor
@Order(InterceptorOrder.ORDER_SECURITY_EXCEPTION_HANDLING)
class GrpcRefusals extends ExceptionTranslatingServerInterceptor {

  @Override
  protected void closeCallUnauthenticated(ServerCall<?, ?> call, AuthenticationException e) {
    call.close(
        Status.UNAUTHENTICATED.withDescription(ProblemResponses.unauthorizedDetail(e)),
        new Metadata());
  }

  @Override
  protected void closeCallAccessDenied(ServerCall<?, ?> call, AccessDeniedException e) {
    call.close(
        Status.PERMISSION_DENIED.withDescription(ProblemResponses.FORBIDDEN_DETAIL),
        new Metadata());
  }
}
