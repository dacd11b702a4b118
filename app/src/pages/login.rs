//! `/login`: the admin's sign-in page.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::auth::SignIn;
use crate::components::SignInFields;
use crate::error::AppError;
use crate::i18n::*;

#[component]
pub fn LoginPage() -> impl IntoView {
    let i18n = use_i18n();
    let action = ServerAction::<SignIn>::new();
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    // The page is plain HTML (`is_plain_page`): a failed sign-in comes back to it with why in
    // the address (`failed`, and `retry` in seconds). Reached by the app's own navigation
    // (after signing out), it is drawn in the browser and the sign-in's answer says why.
    let from_address = move || {
        let q = query.read();
        match q.get("failed")?.as_str() {
            "credentials" => Some(AppError::BadCredentials),
            "attempts" => Some(AppError::TooManyAttempts(
                q.get("retry").and_then(|s| s.parse().ok()).unwrap_or(1),
            )),
            _ => None,
        }
    };
    let error = move || {
        let failed = match action.value().get() {
            Some(r) => r.err(),
            None => from_address(),
        };
        failed.map(|e| sign_in_error(i18n, e, || t_string!(i18n, err_bad_credentials).to_string()))
    };
    view! {
        <div class="login-wrap">
            <section class="card login">
                <h1>{t_string!(i18n, login_title)}</h1>
                <p class="muted">{t_string!(i18n, login_intro)}</p>
                <ActionForm action=action>
                    <input type="hidden" name="next" value=next/>
                    <SignInFields password_id="password" focus_password=true
                        error=Signal::derive(error) pending=action.pending()>
                        <div class="field">
                            <label for="username">{t_string!(i18n, username)}</label>
                            <input id="username" name="username" type="text" value="admin"
                                autocomplete="username" required/>
                        </div>
                    </SignInFields>
                </ActionForm>
            </section>
            <crate::components::LanguageSwitch/>
        </div>
    }
}

/// Why a sign-in failed (the admin's or an agent's; `bad` words wrong credentials).
pub fn sign_in_error(i18n: I18nContext, e: AppError, bad: impl FnOnce() -> String) -> String {
    match e {
        AppError::BadCredentials => bad(),
        AppError::TooManyAttempts(secs) => t_string!(i18n, err_too_many, secs = secs).to_string(),
        AppError::ServerFn(_) => t_string!(i18n, err_network).to_string(),
        _ => t_string!(i18n, err_internal).to_string(),
    }
}
