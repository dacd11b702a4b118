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
    let error =
        move || {
            action.value().get().and_then(|r| r.err()).map(|e| {
                sign_in_error(i18n, e, || t_string!(i18n, err_bad_credentials).to_string())
            })
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
