//! The search box and the member, status and order choices above the gallery. Searching happens
//! as the member types: the index is in memory (docs/decisions.md, "Finding").

use leptos::prelude::*;

use super::index::{Query, SortBy, StatusFilter};

#[component]
pub fn FindBar(query: RwSignal<Query>, members: Memo<Vec<String>>) -> impl IntoView {
    let on_text = move |ev: leptos::ev::Event| {
        let text = event_target_value(&ev);
        query.update(|q| q.text = text);
    };
    let on_member = move |ev: leptos::ev::Event| {
        let member = event_target_value(&ev);
        query.update(|q| q.member = (!member.is_empty()).then_some(member));
    };
    let on_status = move |ev: leptos::ev::Event| {
        let status = StatusFilter::parse(&event_target_value(&ev));
        query.update(|q| q.status = status);
    };
    let on_sort = move |ev: leptos::ev::Event| {
        let sort = SortBy::parse(&event_target_value(&ev));
        query.update(|q| q.sort = sort);
    };
    view! {
        <search class="find-bar" data-testid="find-bar">
            <div class="find-search">
                <label for="find-text">"Search titles and descriptions"</label>
                <input id="find-text" type="search" data-testid="find-text" autocomplete="off"
                    enterkeyhint="search" placeholder="Words, or their beginnings"
                    prop:value=move || query.with(|q| q.text.clone()) on:input=on_text/>
            </div>
            <div class="find-choice">
                <label for="find-member">"Member"</label>
                <select id="find-member" data-testid="find-member" on:change=on_member>
                    <option value="" selected=move || query.with(|q| q.member.is_none())>"Everyone"</option>
                    <For each=move || members.get() key=|m| m.clone() let:member>
                        <option value=member.clone()
                            selected={
                                let member = member.clone();
                                move || query.with(|q| q.member.as_deref() == Some(member.as_str()))
                            }>
                            {member.clone()}
                        </option>
                    </For>
                </select>
            </div>
            <div class="find-choice">
                <label for="find-status">"Status"</label>
                <select id="find-status" data-testid="find-status" on:change=on_status>
                    {StatusFilter::ALL.into_iter().map(|f| view! {
                        <option value=f.as_str() selected=move || query.with(|q| q.status == f)>{f.label()}</option>
                    }).collect_view()}
                </select>
            </div>
            <div class="find-choice">
                <label for="find-sort">"Order"</label>
                <select id="find-sort" data-testid="find-sort" on:change=on_sort>
                    {SortBy::ALL.into_iter().map(|s| view! {
                        <option value=s.as_str() selected=move || query.with(|q| q.sort == s)>{s.label()}</option>
                    }).collect_view()}
                </select>
            </div>
        </search>
    }
}
