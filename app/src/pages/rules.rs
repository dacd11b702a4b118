//! The rules cards of the Helpdesk Integration page (requirements §3–§6): Contact Sync, Auto
//! Create New Contact, Auto Create Ticket and call logs, saved together; and Disconnect (§10).

use leptos::prelude::*;

use leptos::server_fn::ServerFn;

use crate::api::helpdesk::{Disconnect, SaveRulesForm, RULES_TYPED};
use crate::components::{CancelButton, PlainDialog, ViewButton};
use crate::error::AppError;
use crate::i18n::*;
use crate::model::{Flash, RulesForm as RulesFormFields, RulesView, ZohoModule, NEW_GROUP};
use crate::pages::helpdesk::error_in;
use leptos_router::hooks::use_query_map;

#[component]
pub fn Rules(v: RulesView, connected: bool, flash: Option<Flash>) -> impl IntoView {
    view! { <RulesForm v connected flash/> }
}

/// A checkbox styled as a chip (the manual's "呼入已接听 ×" multi-select).
#[component]
fn Chip(
    id: &'static str,
    /// The form's field (`rules[create_inbound]`).
    name: &'static str,
    label: String,
    checked: bool,
) -> impl IntoView {
    view! {
        <label class="chip" for=id>
            <input id=id type="checkbox" name=name value="true" checked=checked/>
            {label}
        </label>
    }
}

/// The rules as an HTML form posted to the server as it is (`save_rules_form`): the page comes
/// back saying "Rules saved.", or why not with what was chosen. A rule's choices are disabled
/// while it is off (and keep what was saved).
#[component]
fn RulesForm(v: RulesView, connected: bool, flash: Option<Flash>) -> impl IntoView {
    let i18n = use_i18n();
    let flash = Flash::of(&flash, "rules");
    let refused = flash.as_ref().filter(|f| f.error.is_some());
    // What was chosen in a refused form, else what is saved.
    let sent =
        refused.and_then(|f| serde_json::from_str::<RulesFormFields>(&f.typed(RULES_TYPED)).ok());
    let (s, group_choice, new_group_name) = match &sent {
        Some(form) => (
            form.input(&v.settings).settings,
            form.sync_group.clone().unwrap_or_default(),
            form.new_group_name.clone().unwrap_or_default(),
        ),
        None => (
            v.settings.clone(),
            v.settings
                .sync_group_id
                .map(|g| g.to_string())
                .unwrap_or_default(),
            String::new(),
        ),
    };
    let errors = refused.map(Flash::field_errors).unwrap_or_default();
    let message = flash.as_ref().and_then(|f| match &f.error {
        None => Some((true, t_string!(i18n, rules_saved).to_string())),
        Some(AppError::Invalid(_)) => None,
        Some(AppError::GroupNotEmpty { group, contacts }) => Some((
            false,
            t_string!(
                i18n,
                err_group_not_empty,
                group = group.clone(),
                count = *contacts
            )
            .to_string(),
        )),
        Some(AppError::NotConfigured) => {
            Some((false, t_string!(i18n, rules_need_connection).to_string()))
        }
        Some(_) => Some((false, t_string!(i18n, err_internal).to_string())),
    });
    // A rule's choices are disabled while it is off (`data-enabled-by`, the plain pages'
    // script; drawn so by the server too).
    let (sync_off, create_off, tickets_off) = (
        !connected || !s.sync_contacts,
        !connected || !s.create_contacts,
        !connected || !s.create_tickets,
    );
    let off = !connected;
    let available = v.call_logs_available;
    let edition = v.edition.clone().unwrap_or_default();
    let error_for = |field: &str| error_in(&errors, field, i18n);
    let invalid = |field: &str| error_for(field).is_some().to_string();
    let new_group_error = error_for("new_group_name");
    let department = s.department_id.clone().unwrap_or_default();

    view! {
        <form id="rules-form" class="rules" method="post" action=SaveRulesForm::url() novalidate aria-label=t_string!(i18n, rules_title)>
            <section class="card" aria-labelledby="sync-title">
                <h2 id="sync-title">{t_string!(i18n, contact_sync_title)}</h2>
                <p class="muted">{t_string!(i18n, contact_sync_hint)}</p>
                <label class="check" for="sync-contacts">
                    <input id="sync-contacts" type="checkbox" name="rules[sync_contacts]" value="true" checked=s.sync_contacts
                        disabled=off/>
                    {t_string!(i18n, auto_sync_contacts)}
                </label>
                <div class="field">
                    <label for="sync-module">{t_string!(i18n, module_to_sync)}</label>
                    <select id="sync-module" name="rules[sync_module]" disabled=sync_off data-enabled-by="sync-contacts">
                        <option value="contacts" selected=s.sync_module == ZohoModule::Contacts>{t_string!(i18n, module_contacts)}</option>
                        <option value="accounts" selected=s.sync_module == ZohoModule::Accounts>{t_string!(i18n, module_accounts)}</option>
                    </select>
                </div>
                <div class="field">
                    <label for="sync-group">{t_string!(i18n, sync_group)}</label>
                    <select id="sync-group" name="rules[sync_group]" disabled=sync_off data-enabled-by="sync-contacts"
                        aria-invalid=invalid("sync_group")>
                        <option value="" selected=group_choice.is_empty()>{t_string!(i18n, choose_group)}</option>
                        {v.groups.into_iter().map(|g| {
                            let id = g.id.to_string();
                            let usable = g.helpdesk || g.contacts == 0;
                            let label = if g.helpdesk {
                                t_string!(i18n, group_option_helpdesk, name = g.name.clone()).to_string()
                            } else if g.contacts > 0 {
                                t_string!(i18n, group_option_full, name = g.name.clone(), count = g.contacts).to_string()
                            } else {
                                g.name.clone()
                            };
                            let chosen = group_choice == id;
                            view! { <option value=id disabled=!usable selected=chosen>{label}</option> }
                        }).collect_view()}
                        <option value=NEW_GROUP selected=group_choice == NEW_GROUP>{t_string!(i18n, new_group_option)}</option>
                    </select>
                    <p class="field-error">{error_for("sync_group")}</p>
                    <p class="hint">{t_string!(i18n, sync_group_hint)}</p>
                </div>
                <div class="field" data-shown-when="sync-group=new" hidden=group_choice != NEW_GROUP>
                    <label for="new-group-name">{t_string!(i18n, group_name)}</label>
                    <input id="new-group-name" type="text" name="rules[new_group_name]" maxlength="64" value=new_group_name
                        disabled=sync_off data-enabled-by="sync-contacts" aria-invalid=new_group_error.is_some().to_string()/>
                    <p class="field-error">{new_group_error}</p>
                </div>
            </section>

            <section class="card" aria-labelledby="create-title">
                <h2 id="create-title">{t_string!(i18n, auto_create_title)}</h2>
                <p class="muted">{t_string!(i18n, auto_create_hint)}</p>
                <label class="check" for="create-contacts">
                    <input id="create-contacts" type="checkbox" name="rules[create_contacts]" value="true" checked=s.create_contacts
                        disabled=off/>
                    {t_string!(i18n, auto_create_contact)}
                </label>
                <fieldset class="field chips" disabled=create_off data-enabled-by="create-contacts">
                    <legend>{t_string!(i18n, create_call_types)}</legend>
                    <div class="chip-row">
                        <Chip id="create-inbound" name="rules[create_inbound]" label=t_string!(i18n, sim_inbound).to_string() checked=s.create_inbound/>
                        <Chip id="create-outbound" name="rules[create_outbound]" label=t_string!(i18n, sim_outbound).to_string() checked=s.create_outbound/>
                    </div>
                    <p class="field-error">{error_for("create_types")}</p>
                </fieldset>
                <div class="field">
                    <label for="create-as">{t_string!(i18n, create_as)}</label>
                    <select id="create-as" name="rules[create_as]" disabled=create_off data-enabled-by="create-contacts">
                        <option value="contacts" selected=s.create_as == ZohoModule::Contacts>{t_string!(i18n, as_contact)}</option>
                        <option value="accounts" selected=s.create_as == ZohoModule::Accounts>{t_string!(i18n, as_account)}</option>
                    </select>
                </div>
            </section>

            <section class="card" aria-labelledby="ticket-title">
                <h2 id="ticket-title">{t_string!(i18n, auto_ticket_title)}</h2>
                <p class="muted">{t_string!(i18n, auto_ticket_hint)}</p>
                <label class="check" for="create-tickets">
                    <input id="create-tickets" type="checkbox" name="rules[create_tickets]" value="true" checked=s.create_tickets
                        disabled=off/>
                    {t_string!(i18n, auto_create_ticket)}
                </label>
                <div class="field">
                    <label for="ticket-when">{t_string!(i18n, ticket_when)}</label>
                    <select id="ticket-when" disabled=tickets_off data-enabled-by="create-tickets">
                        <option value="after_call_ends" selected>{t_string!(i18n, after_call_ends)}</option>
                    </select>
                </div>
                <fieldset class="field chips" disabled=tickets_off data-enabled-by="create-tickets">
                    <legend>{t_string!(i18n, ticket_call_types)}</legend>
                    <div class="chip-row">
                        <Chip id="ticket-inbound-answered" name="rules[ticket_inbound_answered]" label=t_string!(i18n, type_inbound_answered).to_string() checked=s.ticket_inbound_answered/>
                        <Chip id="ticket-inbound-missed" name="rules[ticket_inbound_missed]" label=t_string!(i18n, type_inbound_missed).to_string() checked=s.ticket_inbound_missed/>
                        <Chip id="ticket-outbound-answered" name="rules[ticket_outbound_answered]" label=t_string!(i18n, type_outbound_answered).to_string() checked=s.ticket_outbound_answered/>
                        <Chip id="ticket-outbound-unanswered" name="rules[ticket_outbound_unanswered]" label=t_string!(i18n, type_outbound_unanswered).to_string() checked=s.ticket_outbound_unanswered/>
                    </div>
                    <p class="field-error">{error_for("ticket_types")}</p>
                </fieldset>
                <div class="field">
                    <label for="department">{t_string!(i18n, department)}</label>
                    <select id="department" name="rules[department]" disabled=off>
                        <option value="" selected=department.is_empty()>{t_string!(i18n, department_default)}</option>
                        {v.departments.into_iter().map(|(id, name)| {
                            let chosen = id == department;
                            view! { <option value=id selected=chosen>{name}</option> }
                        }).collect_view()}
                    </select>
                    <p class="field-error">{error_for("department")}</p>
                    <p class="hint">{t_string!(i18n, department_hint)}</p>
                </div>
            </section>

            <section class="card" aria-labelledby="calllog-title">
                <h2 id="calllog-title">{t_string!(i18n, call_log_title)}</h2>
                <p class="muted">{t_string!(i18n, call_log_hint)}</p>
                <label class="check" for="log-calls">
                    <input id="log-calls" type="checkbox" name="rules[log_calls]" value="true" checked=s.log_calls && available
                        disabled=off || !available/>
                    {t_string!(i18n, sync_call_logs)}
                </label>
                {(!available).then(|| view! {
                    <p class="note warn" role="note">{t_string!(i18n, call_log_unavailable, edition = edition.clone())}</p>
                })}
                <p class="field-error">{error_for("log_calls")}</p>
            </section>

            <div class="actions sticky-actions">
                {message.map(|(ok, m)| view! {
                    <span class=if ok { "saved-note" } else { "form-error" } role=if ok { "status" } else { "alert" }>{m}</span>
                })}
                <button type="submit" class="primary" id="save-rules" disabled=off>
                    {t_string!(i18n, save_rules)}
                </button>
            </div>
        </form>
    }
}

/// Disconnect (top right): opens the page's view `?disconnect=1`, a dialog that says what goes
/// and what stays, whose OK is the form that disconnects.
#[component]
pub fn DisconnectButton(flash: Option<Flash>) -> impl IntoView {
    let i18n = use_i18n();
    let open = use_query_map().with_untracked(|q| q.get("disconnect").is_some());
    let failed = Flash::of(&flash, "disconnect").is_some();
    view! {
        <ViewButton page=HELPDESK view="disconnect" id=1 class="danger" label=t_string!(i18n, disconnect).to_string()>
            {t_string!(i18n, disconnect)}
        </ViewButton>
        {open.then(|| view! {
            <PlainDialog title_id="disconnect-title">
                <h2 id="disconnect-title">{t_string!(i18n, disconnect_title)}</h2>
                <p>{t_string!(i18n, disconnect_clears)}</p>
                <p>{t_string!(i18n, disconnect_keeps)}</p>
                {failed.then(|| view! { <p class="form-error" role="alert">{t_string!(i18n, err_internal)}</p> })}
                <div class="actions">
                    <CancelButton page=HELPDESK label=t_string!(i18n, cancel).to_string()/>
                    <form method="post" action=Disconnect::url() class="row-view">
                        <button type="submit" class="primary danger" autofocus>{t_string!(i18n, ok)}</button>
                    </form>
                </div>
            </PlainDialog>
        })}
    }
}

/// The Helpdesk Integration page (where its views and forms come back to).
const HELPDESK: &str = "/integrations/helpdesk";
