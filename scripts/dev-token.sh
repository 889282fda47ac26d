#!/usr/bin/env bash
# Mints an HS256 development token for a service started with veltrix.security.jwt.hmac-secret.
#   scripts/dev-token.sh <secret> [subject] [scopes] [hours]
#   export TOKEN=$(scripts/dev-token.sh "$VELTRIX_SECURITY_JWT_HMAC_SECRET" alice "configs:read")
# Needs only bash and openssl. For development and tests: production tokens come from your issuer.
set -euo pipefail
secret=${1:?usage: dev-token.sh <secret> [subject] [scopes] [hours]}
subject=${2:-developer}
scopes=${3:-configs:read configs:write configs:admin}
hours=${4:-12}

b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
now=$(date +%s)
header=$(printf '{"alg":"HS256","typ":"JWT"}' | b64url)
claims=$(printf '{"sub":"%s","scope":"%s","iat":%d,"exp":%d}' \
  "$subject" "$scopes" "$now" $((now + hours * 3600)) | b64url)
signature=$(printf '%s.%s' "$header" "$claims" | openssl dgst -sha256 -hmac "$secret" -binary | b64url)
printf '%s.%s.%s\n' "$header" "$claims" "$signature"
