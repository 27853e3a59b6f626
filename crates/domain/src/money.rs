//! Amounts and currencies: integers in the currency's minor unit (cents), never floats, and
//! ISO 4217 codes in upper case.

use crate::FieldError;

/// `eur` or ` EUR ` become `EUR`; anything but three letters is refused.
pub fn currency(raw: &str) -> Result<String, FieldError> {
    let code = raw.trim().to_ascii_uppercase();
    if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(code)
    } else {
        Err(FieldError::new("", "invalid_currency", "an ISO 4217 code such as EUR"))
    }
}

/// Money that moves (a payment, an allocation, a refund) is more than nothing.
pub fn positive(amount_minor: i64) -> Result<i64, FieldError> {
    if amount_minor > 0 {
        Ok(amount_minor)
    } else {
        Err(FieldError::new("", "out_of_range", "the amount is a positive number of minor units"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currencies_are_three_letters_in_upper_case() {
        assert_eq!(currency(" eur ").unwrap(), "EUR");
        for bad in ["", "EU", "EURO", "E1R", "€"] {
            assert!(currency(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn amounts_that_move_are_positive() {
        assert_eq!(positive(1).unwrap(), 1);
        assert!(positive(0).is_err());
        assert!(positive(-5).is_err());
    }
}
