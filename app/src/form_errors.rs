//! A form's error where the person will look for it: next to the field the
//! rule names, else above the button.
//!
//! A form lists the fields it shows; an error about one of them appears
//! under that field (linked to it with `aria-describedby`, and the field
//! marked `aria-invalid`), any other error once for the whole form.

use leptos::prelude::*;
use tsudoi::Field;

use crate::AppError;
use crate::i18n::use_texts;

/// The error a form shows now (the action's answer, or one returned in the
/// URL after a form posted without JavaScript), shared by its messages.
#[derive(Clone, Copy)]
pub struct FormError {
    current: Signal<Option<AppError>>,
    fields: &'static [Field],
}

impl FormError {
    pub fn new(current: Signal<Option<AppError>>, fields: &'static [Field]) -> FormError {
        FormError { current, fields }
    }

    /// Whether the current error is about `field`, for `aria-invalid`.
    pub fn is_about(self, field: Field) -> Signal<bool> {
        Signal::derive(move || self.current.get().and_then(|e| e.field()) == Some(field))
    }

    /// The id of `field`'s message, for `aria-describedby`.
    pub fn message_id(field: Field) -> String {
        format!("error-{}", field.code())
    }

    /// `aria-invalid` for `field`'s input: "true" while the error is about it.
    pub fn invalid(self, field: Field) -> impl Fn() -> Option<&'static str> + Copy + 'static {
        move || self.is_about(field).get().then_some("true")
    }

    /// `aria-describedby` for `field`'s input: its message, while there is one.
    pub fn described_by(self, field: Field) -> impl Fn() -> Option<String> + Copy + 'static {
        move || {
            self.is_about(field)
                .get()
                .then(|| FormError::message_id(field))
        }
    }
}

/// The message under one field, when the current error is about it.
#[component]
pub fn FieldError(form: FormError, field: Field) -> impl IntoView {
    let t = use_texts();
    move || {
        form.current
            .get()
            .filter(|error| error.field() == Some(field))
            .map(|error| {
                view! {
                    <p class="field-error" role="alert" id=FormError::message_id(field)
                        data-testid=format!("error-{}", field.code())>
                        {t.error(&error)}
                    </p>
                }
            })
    }
}

/// The message for an error about none of the form's fields.
#[component]
pub fn FormLevelError(form: FormError) -> impl IntoView {
    let t = use_texts();
    move || {
        form.current
            .get()
            .filter(|error| !error.field().is_some_and(|f| form.fields.contains(&f)))
            .map(|error| {
                view! { <p class="error" role="alert" data-testid="form-error">{t.error(&error)}</p> }
            })
    }
}
