//! The black-box tests: the real server on port 0 with the sandbox, driven as a browser, a
//! PBX and Zoho would. One test binary, one module per area: the server and its dependencies
//! are linked once and the helpers in `support/` compiled once, instead of once per file.

mod support;

mod agent;
mod authz;
mod bindings;
mod connect;
mod contacts;
mod desk_requests;
mod extensions;
mod instances;
mod intake;
mod pbx;
mod pbx_calls;
mod pbx_socket;
mod real_data;
mod rules;
mod sandbox_desk;
mod sandbox_oauth;
mod security;
mod site;
