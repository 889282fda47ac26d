package com.veltrix.config.security;

/** The three scopes, and the authorities Spring Security derives from them. */
public final class Scopes {

  public static final String READ = "configs:read";
  public static final String WRITE = "configs:write";
  public static final String ADMIN = "configs:admin";

  public static final String READ_AUTHORITY = "SCOPE_" + READ;
  public static final String WRITE_AUTHORITY = "SCOPE_" + WRITE;
  public static final String ADMIN_AUTHORITY = "SCOPE_" + ADMIN;

  private Scopes() {}
}
