//! Who may see, record and refund payments: `domain::authz` decides, given the firm's setting
//! for members, which is read only when a member asks.

use vestibule_domain::authz::{Action, authorize, may_handle_payments};
use vestibule_domain::payment::MemberPaymentAccess;
use vestibule_domain::principal::Principal;
use vestibule_storage::{DbConnection, firms};

use crate::context::Context;
use crate::error::AppResult;

pub(crate) fn check(conn: &mut DbConnection, ctx: &Context, action: Action) -> AppResult<()> {
    authorize(&ctx.principal, action)?;
    let members = match &ctx.principal {
        Principal::Staff(staff) if !staff.role.is_admin() => {
            MemberPaymentAccess::parse(&firms::get(conn, ctx.firm_id())?.member_payment_access)
                .unwrap_or(MemberPaymentAccess::None)
        }
        _ => MemberPaymentAccess::Record,
    };
    Ok(may_handle_payments(&ctx.principal, action, members)?)
}
