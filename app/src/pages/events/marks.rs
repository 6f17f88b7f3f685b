//! The viewer's own marks on the list ("Registered", "Waitlisted"), added in
//! the browser to cards the server wrote once for everyone.

use tsudoi::model::RegistrationStatus;
use wasm_bindgen::JsCast;

use crate::i18n::Texts;

/// Gives every card under `list` the badge of the viewer's registration for
/// its event, and takes it from the others; safe to run again whenever the
/// registrations or the cards change.
pub fn show(list: &web_sys::Element, registered: &[(i64, RegistrationStatus)], t: &Texts) {
    let Ok(cards) = list.query_selector_all(".event-card") else {
        return;
    };
    for index in 0..cards.length() {
        let Some(card) = cards
            .item(index)
            .and_then(|node| node.dyn_into::<web_sys::Element>().ok())
        else {
            continue;
        };
        if let Ok(Some(old)) = card.query_selector(".badge-mine") {
            old.remove();
        }
        let event_id = card
            .get_attribute("data-event-id")
            .and_then(|id| id.parse::<i64>().ok());
        let Some(status) = registered
            .iter()
            .find(|(id, _)| Some(*id) == event_id)
            .map(|(_, status)| *status)
        else {
            continue;
        };
        let _ = add_badge(&card, status, t);
    }
}

fn add_badge(
    card: &web_sys::Element,
    status: RegistrationStatus,
    t: &Texts,
) -> Result<(), wasm_bindgen::JsValue> {
    let Some(title) = card.query_selector(".event-title")? else {
        return Ok(());
    };
    let Some(body) = title.parent_node() else {
        return Ok(());
    };
    let badge = card
        .owner_document()
        .ok_or(wasm_bindgen::JsValue::NULL)?
        .create_element("span")?;
    badge.set_class_name(&format!("badge badge-mine state-{}", status.code()));
    badge.set_attribute("data-testid", "mine-badge")?;
    badge.set_text_content(Some((t.status)(status)));
    body.insert_before(&badge, Some(&title))?;
    Ok(())
}
