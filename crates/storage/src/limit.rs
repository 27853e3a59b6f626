//! `LIMIT n` written into the SQL rather than bound. SQLite treats a bound `LIMIT` as an
//! input to the plan: every execution with a bound limit expires the prepared statement and
//! prepares it again (`sqlite3Reprepare` was over a third of the CPU of a read-heavy run), so
//! diesel's `.limit()` and `.first()` lose the statement cache. A literal keeps it: each
//! distinct page size is one cached statement. The limit is an integer, never text, so
//! rendering it cannot inject anything.

use diesel::backend::Backend;
use diesel::query_builder::{AsQuery, AstPass, Query, QueryFragment, QueryId};
use diesel::{QueryResult, RunQueryDsl};

/// A query with `LIMIT n` appended; see the module.
#[derive(Debug, Clone, Copy)]
pub struct Limited<Q> {
    query: Q,
    limit: i64,
}

/// Appends a literal `LIMIT` to a finished query (after its `select` and `order`).
pub trait LimitLiteral: AsQuery + Sized {
    fn limit_literal(self, limit: i64) -> Limited<Self::Query> {
        Limited { query: self.as_query(), limit: limit.max(0) }
    }
}

impl<Q: AsQuery> LimitLiteral for Q {}

impl<Q: QueryFragment<DB>, DB: Backend> QueryFragment<DB> for Limited<Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.query.walk_ast(out.reborrow())?;
        out.push_sql(" LIMIT ");
        out.push_sql(&self.limit.to_string());
        Ok(())
    }
}

impl<Q: Query> Query for Limited<Q> {
    type SqlType = Q::SqlType;
}

impl<Q, Conn> RunQueryDsl<Conn> for Limited<Q> {}

// The SQL text, which holds the limit, is the statement cache's key.
impl<Q> QueryId for Limited<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}
