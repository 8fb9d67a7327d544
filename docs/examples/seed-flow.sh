#!/usr/bin/env bash
# The seed's flow with curl, against a running oauth-server: register a
# user and a client, log in, approve, exchange the code, call userinfo,
# refresh, revoke. Needs bash, curl, sed and grep.
set -euo pipefail
BASE=${BASE:-http://127.0.0.1:8000}
OAUTHCTL=${OAUTHCTL:-target/release/oauthctl}
JAR=$(mktemp)
CB=http://localhost:3000/oauth_code

# 1. A user and a client (secret shown once).
printf '%s' 'correct horse battery staple' | $OAUTHCTL user add alice --full-name 'Alice Liddell' --password-stdin >/dev/null
CLIENT=$($OAUTHCTL client add --name Demo --redirect-uri "$CB" --scope "openid profile project" --json)
CLIENT_ID=$(printf '%s' "$CLIENT" | sed -n 's/.*"client_id": "\([^"]*\)".*/\1/p')
CLIENT_SECRET=$(printf '%s' "$CLIENT" | sed -n 's/.*"client_secret": "\([^"]*\)".*/\1/p')

# 2. The authorization request, as in Frappe's guide; not logged in yet,
#    so the server answers with the login page's address.
AUTHORIZE="/api/method/frappe.integrations.oauth2.authorize?client_id=$CLIENT_ID&scope=openid%20project&response_type=code&redirect_uri=http%3A%2F%2Flocalhost%3A3000%2Foauth_code&state=xyz"
curl -s -o /dev/null -c "$JAR" -b "$JAR" "$BASE$AUTHORIZE"

# 3. Log in (the form carries a CSRF token), then back to the request.
field() { sed -n "s/.*name=\"$1\" value=\"\([^\"]*\)\".*/\1/p" | head -n 1 | sed 's/&amp;/\&/g'; }
CSRF=$(curl -s -c "$JAR" -b "$JAR" "$BASE/login" | field csrf_token)
curl -s -o /dev/null -c "$JAR" -b "$JAR" --data-urlencode username=alice \
  --data-urlencode 'password=correct horse battery staple' --data-urlencode "csrf_token=$CSRF" "$BASE/login"

# 4. The consent dialog; click "Allow".
CONSENT=$(curl -s -c "$JAR" -b "$JAR" "$BASE$AUTHORIZE")
REDIRECT=$(curl -s -o /dev/null -w '%{redirect_url}' -c "$JAR" -b "$JAR" \
  --data-urlencode "csrf_token=$(printf '%s' "$CONSENT" | field csrf_token)" \
  --data-urlencode "consent_token=$(printf '%s' "$CONSENT" | field consent_token)" \
  --data-urlencode "request=$(printf '%s' "$CONSENT" | field request)" \
  --data-urlencode decision=allow "$BASE/oauth/authorize/decision")
echo "redirected to: $REDIRECT"
CODE=$(printf '%s' "$REDIRECT" | sed -n 's/.*[?&]code=\([^&]*\).*/\1/p')

# 5. Exchange the code (the client authenticates with HTTP Basic).
TOKENS=$(curl -s -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=authorization_code -d "code=$CODE" \
  -d "redirect_uri=$CB" -d "client_id=$CLIENT_ID" "$BASE/api/method/frappe.integrations.oauth2.get_token")
echo "tokens: $TOKENS"
ACCESS=$(printf '%s' "$TOKENS" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
REFRESH=$(printf '%s' "$TOKENS" | sed -n 's/.*"refresh_token":"\([^"]*\)".*/\1/p')

# 6. Who is this? (OpenID Connect userinfo)
echo "userinfo: $(curl -s -H "Authorization: Bearer $ACCESS" "$BASE/oauth/userinfo")"

# 7. A new pair from the refresh token.
echo "refreshed: $(curl -s -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=refresh_token \
  -d "refresh_token=$REFRESH" "$BASE/api/method/frappe.integrations.oauth2.get_token")"

# 8. Revoke the access token, as the seed's revoke_token does.
echo "revoked: $(curl -s -d "token=$ACCESS" "$BASE/api/method/frappe.integrations.oauth2.revoke_token")"
rm -f "$JAR"
