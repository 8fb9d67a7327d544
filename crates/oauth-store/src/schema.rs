//! The diesel schema, shared by SQLite and PostgreSQL. It uses only types
//! both backends map the same way; see `migrations/README.md`.

diesel::table! {
    users (id) {
        id -> Text,
        username -> Text,
        email -> Nullable<Text>,
        email_verified -> Bool,
        full_name -> Nullable<Text>,
        picture -> Nullable<Text>,
        password_hash -> Text,
        roles -> Text,
        enabled -> Bool,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    clients (client_id) {
        client_id -> Text,
        client_secret_hash -> Nullable<Text>,
        name -> Text,
        redirect_uris -> Text,
        default_redirect_uri -> Nullable<Text>,
        scopes -> Text,
        grant_types -> Text,
        response_types -> Text,
        token_endpoint_auth_method -> Text,
        skip_authorization -> Bool,
        allowed_roles -> Text,
        access_token_format -> Text,
        allow_plain_pkce -> Bool,
        client_uri -> Nullable<Text>,
        logo_uri -> Nullable<Text>,
        contacts -> Text,
        registration_access_token_hash -> Nullable<Text>,
        created_at -> BigInt,
        updated_at -> BigInt,
        previous_secret_hash -> Nullable<Text>,
        previous_secret_expires_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    grants (id) {
        id -> Text,
        client_id -> Text,
        user_id -> Nullable<Text>,
        scopes -> Text,
        resources -> Text,
        auth_time -> Nullable<BigInt>,
        created_at -> BigInt,
        expires_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
        last_used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    authorization_codes (code_hash) {
        code_hash -> Text,
        client_id -> Text,
        user_id -> Text,
        redirect_uri -> Text,
        redirect_uri_given -> Bool,
        scopes -> Text,
        nonce -> Nullable<Text>,
        code_challenge -> Nullable<Text>,
        code_challenge_method -> Nullable<Text>,
        resources -> Text,
        auth_time -> BigInt,
        created_at -> BigInt,
        expires_at -> BigInt,
        redeemed_at -> Nullable<BigInt>,
        grant_id -> Nullable<Text>,
    }
}

diesel::table! {
    access_tokens (token_hash) {
        token_hash -> Text,
        grant_id -> Text,
        scopes -> Text,
        audience -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Text,
        grant_id -> Text,
        scopes -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        rotated_at -> Nullable<BigInt>,
        revoked_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    consents (user_id, client_id, scope) {
        user_id -> Text,
        client_id -> Text,
        scope -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    pending_consents (token_hash) {
        token_hash -> Text,
        user_id -> Text,
        request_digest -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        session_hash -> Nullable<Text>,
    }
}

diesel::table! {
    sessions (id_hash) {
        id_hash -> Text,
        user_id -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        last_seen_at -> BigInt,
    }
}

diesel::table! {
    signing_keys (kid) {
        kid -> Text,
        alg -> Text,
        public_jwk -> Text,
        private_key -> Binary,
        created_at -> BigInt,
        retired_at -> Nullable<BigInt>,
        expires_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    login_throttle (key_hash) {
        key_hash -> Text,
        failures -> BigInt,
        last_failure -> BigInt,
        next_allowed_at -> BigInt,
        locked_until -> Nullable<BigInt>,
        expires_at -> BigInt,
    }
}

diesel::joinable!(grants -> clients (client_id));
diesel::joinable!(grants -> users (user_id));
diesel::joinable!(authorization_codes -> clients (client_id));
diesel::joinable!(authorization_codes -> users (user_id));
diesel::joinable!(access_tokens -> grants (grant_id));
diesel::joinable!(refresh_tokens -> grants (grant_id));
diesel::joinable!(consents -> clients (client_id));
diesel::joinable!(consents -> users (user_id));
diesel::joinable!(sessions -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    clients,
    grants,
    authorization_codes,
    access_tokens,
    refresh_tokens,
    consents,
    pending_consents,
    signing_keys,
    sessions,
    login_throttle,
);
