//! API tokens for automation: created here, shown once, revocable.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;

use crate::api::{CreateToken, RevokeToken, list_tokens};
use crate::components::{ErrorBox, PostForm, TextField, use_me, when};

/// `/tokens`
#[component]
pub fn TokensPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| list_tokens());
    let me = use_me();
    view! {
        <Title text="API tokens"/>
        <h1>"API tokens"</h1>
        <p class="muted">"Tokens let automation use the REST API as "<code>"Authorization: Bearer <token>"</code>
            ". A token acts with your role; read tokens cannot change anything."</p>
        // Filled from the answer of the creating call, once (see `enhance`): the secret is never
        // rendered by the server.
        <div class="alert alert-success" role="status" id="new-token-box" hidden>
            <p>"Token "<strong data-value="token.name"></strong>" created. Copy it now: it is not shown again."</p>
            <pre class="secret" id="new-token" data-value="secret"></pre>
        </div>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                matches!(me.await, Ok(Some(ref m)) if !m.read_only && m.manages_platform).then(|| view! {
                    <section class="edit no-print">
                        <h2>"New token"</h2>
                        <noscript>
                            <p class="alert alert-info">"Creating a token needs JavaScript: the secret is shown in this page once and never sent again."</p>
                        </noscript>
                        <PostForm action=CreateToken::url() class="needs-script" reveal="new-token-box">
                            <TextField label="Name" name="name" required=true hint="What uses it, e.g. gitops-sync."/>
                            <div class="field">
                                <label for="field-scope">"Scope"</label>
                                <select id="field-scope" name="scope">
                                    <option value="read">"read"</option>
                                    <option value="write">"write"</option>
                                </select>
                            </div>
                            <TextField label="Expires in (days)" name="expires_in_days" value="90" input_type="number"/>
                            <button type="submit" class="primary" id="create-token">"Create token"</button>
                        </PostForm>
                    </section>
                })
            })}
        </Suspense>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                    Ok(tokens) if tokens.is_empty() => view! { <p class="empty">"No tokens yet."</p> }.into_any(),
                    Ok(tokens) => view! {
                        <table>
                            <thead><tr><th>"Name"</th><th>"Starts with"</th><th>"Scope"</th><th>"Created by"</th>
                                <th>"Expires"</th><th>"Last used"</th><th>"State"</th><th></th></tr></thead>
                            <tbody>
                                {tokens.into_iter().map(|t| {
                                    let active = t.revoked_at.is_none();
                                    view! {
                                        <tr>
                                            <td>{t.name}</td>
                                            <td><code>{t.prefix}"…"</code></td>
                                            <td>{t.scope}" ("{t.role}")"</td>
                                            <td>{t.created_by_name}</td>
                                            <td>{when(t.expires_at)}</td>
                                            <td>{t.last_used_at.map(when)}</td>
                                            <td>{if active { "active" } else { "revoked" }}</td>
                                            <td>{active.then(|| view! {
                                                <PostForm action=RevokeToken::url()>
                                                    <input type="hidden" name="id" value=t.id.to_string()/>
                                                    <button type="submit" class="secondary">"Revoke"</button>
                                                </PostForm>
                                            })}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
