//! `/oauth/zoho/callback`: the Redirect URI. It stands alone in the consent window, completes
//! the authorization on the server (during server rendering, once), and says how it went.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::helpdesk::{complete_authorization, CallbackParams};
use crate::error::AppError;
use crate::i18n::*;
use crate::model::AuthOutcome;
use crate::pages::helpdesk::failure_text;

#[component]
pub fn CallbackPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let params = move || {
        let q = query.read();
        CallbackParams {
            code: q.get("code"),
            state: q.get("state"),
            error: q.get("error"),
            location: q.get("location"),
            accounts_server: q.get("accounts-server"),
        }
    };
    // Blocking: the exchange runs while the server renders; the browser gets the result with
    // the page and never calls it a second time.
    let result = Resource::new_blocking(params, complete_authorization);
    view! {
        <div class="landing">
            <p class="brand">{t_string!(i18n, app_name)}</p>
            <Suspense fallback=move || view! { <p>{t_string!(i18n, auth_checking)}</p> }>
                {move || result.get().map(|r| {
                    let (ok, text, extra) = match r {
                        Ok(AuthOutcome::Succeeded { choose_org }) => (
                            true,
                            t_string!(i18n, auth_succeeded).to_string(),
                            choose_org.then(|| t_string!(i18n, auth_succeeded_choose).to_string()),
                        ),
                        Ok(AuthOutcome::Failed(f)) => (false, failure_text(i18n, f), None),
                        Err(AppError::Unauthorized) => (false, t_string!(i18n, fail_signed_out).to_string(), None),
                        Err(_) => (false, t_string!(i18n, fail_other).to_string(), None),
                    };
                    view! {
                        <div class=if ok { "result ok" } else { "result bad" }>
                            <div class="mark" aria-hidden="true">{if ok { "✓" } else { "✕" }}</div>
                            <h1 id="result">{text}</h1>
                            {extra.map(|e| view! { <p>{e}</p> })}
                            <p class="muted">{t_string!(i18n, close_window)}</p>
                        </div>
                    }
                })}
            </Suspense>
        </div>
    }
}
