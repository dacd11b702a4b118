//! The rules cards of the Helpdesk Integration page (requirements §3–§6): Contact Sync, Auto
//! Create New Contact, Auto Create Ticket and call logs, saved together; and Disconnect (§10).

use leptos::prelude::*;

use crate::api::helpdesk::{disconnect, save_rules};
use crate::components::{keep_checked, keep_chosen, keep_typed, Dialog};
use crate::error::AppError;
use crate::i18n::*;
use crate::model::{FieldError, RuleSettings, RulesInput, RulesView, TicketWhen, ZohoModule};
use crate::pages::helpdesk::error_of;

/// The rules resource; created by the page (resources are created outside `<Suspense>`).
pub type RulesResource = Resource<Result<RulesView, AppError>>;

/// The value of the group drop-down that creates a group in place.
const NEW_GROUP: &str = "new";

#[component]
pub fn Rules(rules: RulesResource, connected: bool) -> impl IntoView {
    // Outside the form: a save refetches the view (new group, Helpdesk tag), which rebuilds the
    // form; the message must outlive that.
    let message = RwSignal::new(None::<(bool, String)>);
    view! {
        <Transition fallback=|| view! { <div class="card skeleton" aria-busy="true"></div> }>
            {move || rules.get().map(|r| match r {
                Ok(v) => view! { <RulesForm v=v connected=connected message=message on_saved=move || rules.refetch()/> }.into_any(),
                Err(_) => ().into_any(),
            })}
        </Transition>
    }
}

/// A checkbox styled as a chip (the manual's "呼入已接听 ×" multi-select).
#[component]
fn Chip(
    id: &'static str,
    label: String,
    checked: RwSignal<bool>,
    disabled: Signal<bool>,
) -> impl IntoView {
    keep_checked(id, checked);
    view! {
        <label class="chip" for=id class:on=move || checked.get()>
            <input id=id type="checkbox" checked=checked.get_untracked() bind:checked=checked
                disabled=move || disabled.get()/>
            {label}
        </label>
    }
}

#[component]
fn RulesForm(
    v: RulesView,
    connected: bool,
    message: RwSignal<Option<(bool, String)>>,
    on_saved: impl Fn() + 'static + Send + Sync + Copy,
) -> impl IntoView {
    let i18n = use_i18n();
    let s = v.settings.clone();
    let sync = RwSignal::new(s.sync_contacts);
    let module = RwSignal::new(s.sync_module);
    let group = RwSignal::new(s.sync_group_id.map(|g| g.to_string()).unwrap_or_default());
    let new_group = RwSignal::new(String::new());
    let create = RwSignal::new(s.create_contacts);
    let create_in = RwSignal::new(s.create_inbound);
    let create_out = RwSignal::new(s.create_outbound);
    let create_as = RwSignal::new(s.create_as);
    let tickets = RwSignal::new(s.create_tickets);
    let t_ia = RwSignal::new(s.ticket_inbound_answered);
    let t_im = RwSignal::new(s.ticket_inbound_missed);
    let t_oa = RwSignal::new(s.ticket_outbound_answered);
    let t_ou = RwSignal::new(s.ticket_outbound_unanswered);
    let department = RwSignal::new(s.department_id.clone().unwrap_or_default());
    let log_calls = RwSignal::new(s.log_calls && v.call_logs_available);
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let available = v.call_logs_available;
    let edition = v.edition.clone().unwrap_or_default();
    let off = Signal::derive(move || !connected);
    let sync_off = Signal::derive(move || !connected || !sync.get());
    let create_off = Signal::derive(move || !connected || !create.get());
    let tickets_off = Signal::derive(move || !connected || !tickets.get());

    // What is ticked or chosen before the page is interactive is kept.
    keep_checked("sync-contacts", sync);
    keep_chosen("sync-module", module, ZohoModule::from_choice);
    keep_chosen("sync-group", group, str::to_string);
    keep_typed("new-group-name", new_group);
    keep_checked("create-contacts", create);
    keep_chosen("create-as", create_as, ZohoModule::from_choice);
    keep_checked("create-tickets", tickets);
    keep_chosen("department", department, str::to_string);
    keep_checked("log-calls", log_calls);

    let error_for = move |field: &'static str| error_of(errors, field, i18n);
    let save = Action::new(|input: &RulesInput| {
        let input = input.clone();
        async move { save_rules(input).await }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.set(vec![]);
        message.set(None);
        let g = group.get_untracked();
        let settings = RuleSettings {
            sync_contacts: sync.get_untracked(),
            sync_module: module.get_untracked(),
            sync_group_id: g.parse().ok(),
            create_contacts: create.get_untracked(),
            create_inbound: create_in.get_untracked(),
            create_outbound: create_out.get_untracked(),
            create_as: create_as.get_untracked(),
            create_tickets: tickets.get_untracked(),
            ticket_when: TicketWhen::AfterCallEnds,
            ticket_inbound_answered: t_ia.get_untracked(),
            ticket_inbound_missed: t_im.get_untracked(),
            ticket_outbound_answered: t_oa.get_untracked(),
            ticket_outbound_unanswered: t_ou.get_untracked(),
            department_id: Some(department.get_untracked()).filter(|d| !d.is_empty()),
            log_calls: log_calls.get_untracked(),
        };
        save.dispatch(RulesInput {
            settings,
            new_group_name: (g == NEW_GROUP).then(|| new_group.get_untracked()),
        });
    };
    Effect::new(move |_| match save.value().get() {
        None => {}
        Some(Ok(())) => {
            message.set(Some((true, t_string!(i18n, rules_saved).to_string())));
            on_saved();
        }
        Some(Err(AppError::Invalid(list))) => errors.set(list),
        Some(Err(AppError::GroupNotEmpty { group, contacts })) => message.set(Some((
            false,
            t_string!(i18n, err_group_not_empty, group = group, count = contacts).to_string(),
        ))),
        Some(Err(AppError::NotConfigured)) => message.set(Some((
            false,
            t_string!(i18n, rules_need_connection).to_string(),
        ))),
        Some(Err(_)) => message.set(Some((false, t_string!(i18n, err_internal).to_string()))),
    });

    let groups = v.groups.clone();
    let departments = v.departments.clone();
    view! {
        <form id="rules-form" class="rules" on:submit=on_submit novalidate aria-label=t_string!(i18n, rules_title)>
            <section class="card" aria-labelledby="sync-title">
                <h2 id="sync-title">{t_string!(i18n, contact_sync_title)}</h2>
                <p class="muted">{t_string!(i18n, contact_sync_hint)}</p>
                <label class="check" for="sync-contacts">
                    <input id="sync-contacts" type="checkbox" checked=sync.get_untracked() bind:checked=sync disabled=move || off.get()/>
                    {t_string!(i18n, auto_sync_contacts)}
                </label>
                <div class="field">
                    <label for="sync-module">{t_string!(i18n, module_to_sync)}</label>
                    <select id="sync-module" disabled=move || sync_off.get()
                        on:change=move |ev| module.set(ZohoModule::from_choice(&event_target_value(&ev)))>
                        <option value="contacts" selected=move || module.get() == ZohoModule::Contacts>{t_string!(i18n, module_contacts)}</option>
                        <option value="accounts" selected=move || module.get() == ZohoModule::Accounts>{t_string!(i18n, module_accounts)}</option>
                    </select>
                </div>
                <div class="field">
                    <label for="sync-group">{t_string!(i18n, sync_group)}</label>
                    <select id="sync-group" disabled=move || sync_off.get()
                        aria-invalid=move || error_for("sync_group")().is_some().to_string()
                        on:change=move |ev| group.set(event_target_value(&ev))>
                        <option value="" selected=move || group.get().is_empty()>{t_string!(i18n, choose_group)}</option>
                        {groups.into_iter().map(|g| {
                            let id = g.id.to_string();
                            let id2 = id.clone();
                            let usable = g.helpdesk || g.contacts == 0;
                            let label = if g.helpdesk {
                                t_string!(i18n, group_option_helpdesk, name = g.name.clone()).to_string()
                            } else if g.contacts > 0 {
                                t_string!(i18n, group_option_full, name = g.name.clone(), count = g.contacts).to_string()
                            } else {
                                g.name.clone()
                            };
                            view! { <option value=id disabled=!usable selected=move || group.get() == id2>{label}</option> }
                        }).collect_view()}
                        <option value=NEW_GROUP selected=move || group.get() == NEW_GROUP>{t_string!(i18n, new_group_option)}</option>
                    </select>
                    <p class="field-error">{error_for("sync_group")}</p>
                    <p class="hint">{t_string!(i18n, sync_group_hint)}</p>
                </div>
                <Show when=move || group.get() == NEW_GROUP>
                    <div class="field">
                        <label for="new-group-name">{t_string!(i18n, group_name)}</label>
                        <input id="new-group-name" type="text" maxlength="64" value=new_group.get_untracked() bind:value=new_group disabled=move || sync_off.get()
                            aria-invalid=move || error_for("new_group_name")().is_some().to_string()/>
                        <p class="field-error">{error_for("new_group_name")}</p>
                    </div>
                </Show>
            </section>

            <section class="card" aria-labelledby="create-title">
                <h2 id="create-title">{t_string!(i18n, auto_create_title)}</h2>
                <p class="muted">{t_string!(i18n, auto_create_hint)}</p>
                <label class="check" for="create-contacts">
                    <input id="create-contacts" type="checkbox" checked=create.get_untracked() bind:checked=create disabled=move || off.get()/>
                    {t_string!(i18n, auto_create_contact)}
                </label>
                <fieldset class="field chips" disabled=move || create_off.get()>
                    <legend>{t_string!(i18n, create_call_types)}</legend>
                    <div class="chip-row">
                        <Chip id="create-inbound" label=t_string!(i18n, sim_inbound).to_string() checked=create_in disabled=create_off/>
                        <Chip id="create-outbound" label=t_string!(i18n, sim_outbound).to_string() checked=create_out disabled=create_off/>
                    </div>
                    <p class="field-error">{error_for("create_types")}</p>
                </fieldset>
                <div class="field">
                    <label for="create-as">{t_string!(i18n, create_as)}</label>
                    <select id="create-as" disabled=move || create_off.get()
                        on:change=move |ev| create_as.set(ZohoModule::from_choice(&event_target_value(&ev)))>
                        <option value="contacts" selected=move || create_as.get() == ZohoModule::Contacts>{t_string!(i18n, as_contact)}</option>
                        <option value="accounts" selected=move || create_as.get() == ZohoModule::Accounts>{t_string!(i18n, as_account)}</option>
                    </select>
                </div>
            </section>

            <section class="card" aria-labelledby="ticket-title">
                <h2 id="ticket-title">{t_string!(i18n, auto_ticket_title)}</h2>
                <p class="muted">{t_string!(i18n, auto_ticket_hint)}</p>
                <label class="check" for="create-tickets">
                    <input id="create-tickets" type="checkbox" checked=tickets.get_untracked() bind:checked=tickets disabled=move || off.get()/>
                    {t_string!(i18n, auto_create_ticket)}
                </label>
                <div class="field">
                    <label for="ticket-when">{t_string!(i18n, ticket_when)}</label>
                    <select id="ticket-when" disabled=move || tickets_off.get()>
                        <option value="after_call_ends" selected>{t_string!(i18n, after_call_ends)}</option>
                    </select>
                </div>
                <fieldset class="field chips" disabled=move || tickets_off.get()>
                    <legend>{t_string!(i18n, ticket_call_types)}</legend>
                    <div class="chip-row">
                        <Chip id="ticket-inbound-answered" label=t_string!(i18n, type_inbound_answered).to_string() checked=t_ia disabled=tickets_off/>
                        <Chip id="ticket-inbound-missed" label=t_string!(i18n, type_inbound_missed).to_string() checked=t_im disabled=tickets_off/>
                        <Chip id="ticket-outbound-answered" label=t_string!(i18n, type_outbound_answered).to_string() checked=t_oa disabled=tickets_off/>
                        <Chip id="ticket-outbound-unanswered" label=t_string!(i18n, type_outbound_unanswered).to_string() checked=t_ou disabled=tickets_off/>
                    </div>
                    <p class="field-error">{error_for("ticket_types")}</p>
                </fieldset>
                <div class="field">
                    <label for="department">{t_string!(i18n, department)}</label>
                    <select id="department" disabled=move || off.get()
                        on:change=move |ev| department.set(event_target_value(&ev))>
                        <option value="" selected=move || department.get().is_empty()>{t_string!(i18n, department_default)}</option>
                        {departments.into_iter().map(|(id, name)| {
                            let id2 = id.clone();
                            view! { <option value=id selected=move || department.get() == id2>{name}</option> }
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
                    <input id="log-calls" type="checkbox" checked=log_calls.get_untracked() bind:checked=log_calls disabled=move || off.get() || !available/>
                    {t_string!(i18n, sync_call_logs)}
                </label>
                {(!available).then(|| view! {
                    <p class="note warn" role="note">{t_string!(i18n, call_log_unavailable, edition = edition.clone())}</p>
                })}
                <p class="field-error">{error_for("log_calls")}</p>
            </section>

            <div class="actions sticky-actions">
                {move || message.get().map(|(ok, m)| view! {
                    <span class=if ok { "saved-note" } else { "form-error" } role=if ok { "status" } else { "alert" }>{m}</span>
                })}
                <button type="submit" class="primary" id="save-rules" disabled=move || off.get() || save.pending().get()>
                    {t_string!(i18n, save_rules)}
                </button>
            </div>
        </form>
    }
}

/// Disconnect (top right), behind a dialog that says what goes and what stays.
#[component]
pub fn DisconnectButton(on_change: impl Fn() + 'static + Send + Sync + Copy) -> impl IntoView {
    let i18n = use_i18n();
    let open = RwSignal::new(false);
    let act = Action::new(|_: &()| disconnect());
    let failed = RwSignal::new(false);
    Effect::new(move |_| match act.value().get() {
        Some(Ok(())) => {
            open.set(false);
            on_change();
        }
        Some(Err(_)) => failed.set(true),
        None => {}
    });
    view! {
        <button type="button" class="danger" id="disconnect" on:click=move |_| { failed.set(false); open.set(true) }>
            {t_string!(i18n, disconnect)}
        </button>
        <Show when=move || open.get()>
            <Dialog title_id="disconnect-title" on_close=move || open.set(false)>
                <h2 id="disconnect-title">{t_string!(i18n, disconnect_title)}</h2>
                <p>{t_string!(i18n, disconnect_clears)}</p>
                <p>{t_string!(i18n, disconnect_keeps)}</p>
                <Show when=move || failed.get()>
                    <p class="form-error" role="alert">{t_string!(i18n, err_internal)}</p>
                </Show>
                <div class="actions">
                    <button type="button" on:click=move |_| open.set(false)>{t_string!(i18n, cancel)}</button>
                    <button type="button" class="primary danger" disabled=move || act.pending().get()
                        on:click=move |_| { act.dispatch(()); }>{t_string!(i18n, ok)}</button>
                </div>
            </Dialog>
        </Show>
    }
}
