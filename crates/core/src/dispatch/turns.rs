//! The order a round's claimed messages go out in. A claim takes lanes in turns across
//! subaccounts; sending them in that order too puts every subaccount's next message in the
//! round's first chunk, instead of behind a busy subaccount's older backlog (the claim
//! hands them over oldest first).

use std::collections::HashMap;

/// `items` (oldest first) reordered in turns: every tenant's first, then every tenant's
/// second, and so on; each tenant's own items keep their order.
pub(super) fn in_turns<T>(items: Vec<T>, tenant: impl Fn(&T) -> &str) -> Vec<T> {
    let mut taken: HashMap<String, usize> = HashMap::new();
    let mut turns: Vec<(usize, T)> = items
        .into_iter()
        .map(|item| {
            let turn = taken.entry(tenant(&item).to_owned()).or_default();
            *turn += 1;
            (*turn, item)
        })
        .collect();
    // Stable, so items of one turn stay oldest first.
    turns.sort_by_key(|(turn, _)| *turn);
    turns.into_iter().map(|(_, item)| item).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quiet_tenants_message_goes_out_with_the_first_of_a_busy_tenants_backlog() {
        let claimed = vec![
            ("busy", 1),
            ("busy", 2),
            ("other", 3),
            ("busy", 4),
            ("quiet", 5),
        ];
        let order = in_turns(claimed, |(tenant, _)| tenant);
        assert_eq!(
            order,
            [
                ("busy", 1),
                ("other", 3),
                ("quiet", 5),
                ("busy", 2),
                ("busy", 4)
            ]
        );
    }
}
