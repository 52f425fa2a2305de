//! Where toasts are drawn. The app draws them once at its root; an open video dialog draws them
//! inside itself instead, because a modal dialog makes everything outside it inert (a toast there
//! could be seen but not clicked).

use leptos::prelude::*;

use super::{Notices, Toast, ToastAction};

#[component]
pub fn Toasts(
    /// Drawn inside a modal dialog: takes over from the root's region while it is mounted.
    #[prop(optional)]
    in_dialog: bool,
) -> impl IntoView {
    let notices = Notices::get();
    if in_dialog {
        notices.dialog_hosts.update(|n| *n += 1);
        on_cleanup(move || {
            notices
                .dialog_hosts
                .try_update(|n| *n = n.saturating_sub(1));
        });
    }
    let active = move || in_dialog || notices.dialog_hosts.get() == 0;
    // A region that goes away cannot report the pointer leaving it.
    on_cleanup(move || notices.release());
    // While the pointer is over the toasts or focus is in them, none closes by itself: a toast
    // being read or reached for stays (WCAG 2.2.1).
    view! {
        <Show when=active>
            <section class="toasts" aria-label="Notifications" data-testid="toasts"
                on:pointerenter=move |_| notices.hold(true, true)
                on:pointerleave=move |_| notices.hold(true, false)
                on:focusin=move |_| notices.hold(false, true)
                on:focusout=move |_| notices.hold(false, false)>
                <For each=move || notices.toasts.get() key=|toast| toast.id let:toast>
                    <ToastItem toast/>
                </For>
            </section>
        </Show>
    }
}

#[component]
fn ToastItem(toast: Toast) -> impl IntoView {
    let notices = Notices::get();
    let id = toast.id;
    let actions = toast
        .actions
        .into_iter()
        .map(|action| match action {
            ToastAction::Link {
                label,
                href,
                download,
            } => view! {
                // Dismissed a moment later: a link removed while its click is being handled is
                // not followed (the browser only follows connected links).
                <a class="button small" href=href download=download.then_some("")
                    on:click=move |_| {
                        leptos::task::spawn_local(async move {
                            crate::browser::sleep_ms(500).await;
                            notices.dismiss(id);
                        });
                    }>{label}</a>
            }
            .into_any(),
            ToastAction::Button { label, run } => view! {
                <button class="button small" on:click=move |_| {
                    notices.dismiss(id);
                    run.run(());
                }>{label}</button>
            }
            .into_any(),
        })
        .collect_view();
    view! {
        <div class=toast.tone.class() role=toast.tone.role() data-testid="toast" data-kind=toast.kind
            data-closes=if toast.closes_after_ms.is_some() { "self" } else { "on-dismiss" }>
            <p class="toast-text">{toast.text}</p>
            <div class="toast-actions">
                {actions}
                <button class="button secondary small" aria-label="Dismiss notification"
                    on:click=move |_| notices.dismiss(id)>"Dismiss"</button>
            </div>
        </div>
    }
}
