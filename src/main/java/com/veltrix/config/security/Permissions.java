package com.veltrix.config.security;

import com.veltrix.config.catalog.write.WriteCommand;
import java.util.List;
import java.util.Optional;
import org.springframework.security.access.AccessDeniedException;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;

/**
 * Checks that depend on what a request contains rather than where it goes: a batch that retires
 * needs {@code configs:admin}, as DELETE does. Used by the REST and gRPC adapters alike.
 */
public final class Permissions {

  private Permissions() {}

  public static void requireAdminToRetire(List<WriteCommand> writes) {
    if (writes.stream().anyMatch(w -> w instanceof WriteCommand.Retire)
        && !has(Scopes.ADMIN_AUTHORITY)) {
      throw new AccessDeniedException("retiring documents needs the scope " + Scopes.ADMIN);
    }
  }

  /** The authenticated caller's name (the token's subject), for {@code updatedBy}. */
  public static Optional<String> caller() {
    Authentication auth = SecurityContextHolder.getContext().getAuthentication();
    return auth == null || !auth.isAuthenticated() ? Optional.empty() : Optional.of(auth.getName());
  }

  private static boolean has(String authority) {
    Authentication auth = SecurityContextHolder.getContext().getAuthentication();
    return auth != null
        && auth.getAuthorities().stream().anyMatch(a -> authority.equals(a.getAuthority()));
  }
}
