//! The throttle's rules, with a clock the tests move.
use super::*;

fn ip(s: &str) -> IpAddr {
    s.parse().expect("an address")
}

#[test]
fn waits_double_after_the_free_failures() {
    assert_eq!(wait_after(4), Duration::ZERO);
    assert_eq!(wait_after(5), Duration::from_secs(1));
    assert_eq!(wait_after(8), Duration::from_secs(8));
    assert_eq!(wait_after(40), MAX_WAIT);
}

#[test]
fn ipv6_addresses_of_one_64_are_counted_together() {
    let mut t = Throttle::default();
    let now = Instant::now();
    for i in 0..FREE_FAILURES {
        // A client rotating through its /64: a new address every time.
        let from = ip(&format!("2001:db8:1:2:{i:x}::{i:x}"));
        assert!(t.admit(from, now).is_ok(), "attempt {i}");
    }
    assert_eq!(
        t.admit(ip("2001:db8:1:2:ffff::1"), now).map(|_| ()),
        Err(Duration::from_secs(1)),
        "the sixth address of the /64 waits"
    );
    assert!(
        t.admit(ip("2001:db8:1:3::1"), now).is_ok(),
        "the next /64 does not"
    );
    assert_eq!(
        AddrGroup::from(ip("2001:db8:1:2:aaaa:bbbb:cccc:dddd")).to_string(),
        "2001:db8:1:2::/64"
    );
    assert_eq!(
        AddrGroup::from(ip("::ffff:192.0.2.1")),
        AddrGroup::from(ip("192.0.2.1")),
        "an IPv4-mapped address is its IPv4 address"
    );
}

#[test]
fn a_right_password_refunds_its_charge() {
    let mut t = Throttle::default();
    let now = Instant::now();
    let home = ip("127.0.0.1");
    for _ in 0..FREE_FAILURES - 1 {
        t.admit(home, now).expect("free");
    }
    let charge = t.admit(home, now).expect("the fifth try");
    t.succeeded(charge);
    assert!(t.admit(home, now).is_ok(), "the address starts afresh");
    assert_eq!(t.recent.len(), FREE_FAILURES as usize);
}

#[test]
fn many_addresses_together_meet_the_global_limit() {
    let mut t = Throttle::default();
    let now = Instant::now();
    for i in 0..GLOBAL_FAILURES {
        let from = ip(&format!("198.51.100.{i}"));
        assert!(t.admit(from, now).is_ok(), "address {i}");
    }
    assert_eq!(
        t.admit(ip("198.51.100.0"), now + Duration::from_secs(20))
            .map(|_| ()),
        Err(Duration::from_secs(40)),
        "an address that failed waits for the window"
    );
    assert!(
        t.admit(ip("198.51.100.0"), now + GLOBAL_WINDOW).is_ok(),
        "after the window, tries go on"
    );
    let reports = t.take_reports(now + GLOBAL_WINDOW);
    assert_eq!(
        reports.iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["1 sign-in attempt from 198.51.100.0 refused without checking the password: too many failed sign-ins from all addresses in the last minute"]
    );
}

#[test]
fn the_global_limit_never_holds_back_a_clean_address() {
    let mut t = Throttle::default();
    let now = Instant::now();
    // 40 failures from 8 addresses, 5 each: every one of them now waits on its own too,
    // so take one that failed once to see the global brake alone.
    for i in 0..8 {
        for _ in 0..FREE_FAILURES {
            let _ = t.admit(ip(&format!("198.51.100.{i}")), now);
        }
    }
    t.admit(ip("198.51.100.100"), now).expect("a first try");
    let later = now + Duration::from_secs(20);
    assert_eq!(
        t.admit(ip("198.51.100.100"), later).map(|_| ()),
        Err(Duration::from_secs(40)),
        "an address that failed waits for the window"
    );
    assert!(
        matches!(t.admit(ip("198.51.100.3"), later), Err(w) if w >= Duration::from_secs(1)),
        "one of the eight still waits"
    );
    let operator = t
        .admit(ip("203.0.113.7"), later)
        .expect("a clean address is let through");
    t.succeeded(operator);
    assert!(
        t.admit(ip("203.0.113.7"), later).is_ok(),
        "and is clean again after a right password"
    );
    let fails_then_waits = later + Duration::from_secs(1);
    assert!(
        t.admit(ip("203.0.113.7"), fails_then_waits).is_err(),
        "once it has failed, the global limit holds it back too"
    );
}

#[tokio::test]
async fn the_operator_signs_in_while_others_guess_from_everywhere() {
    use crate::auth::{tests::secret, Authenticator, LoginResult};
    let (a, _) = Authenticator::new(Some(&secret("s3cret")));
    // 40 wrong passwords from 8 addresses: past GLOBAL_FAILURES within the minute.
    for i in 0..8 {
        for _ in 0..FREE_FAILURES {
            let _ = a.login(ip(&format!("198.51.100.{i}")), "guess").await;
        }
    }
    assert!(
        matches!(
            a.login(ip("198.51.100.0"), "s3cret").await,
            LoginResult::Throttled(_)
        ),
        "an address that guessed still waits"
    );
    assert_eq!(
        a.login(ip("203.0.113.7"), "s3cret").await,
        LoginResult::Ok,
        "a ninth, clean address is not delayed"
    );
}

#[test]
fn wrong_passwords_from_many_clean_addresses_write_a_bounded_number_of_lines() {
    let mut t = Throttle::default();
    let start = Instant::now();
    let mut one_by_one = 0;
    for i in 0..2000u64 {
        let now = start + Duration::from_millis(29 * i);
        let from = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, i as u16, 0, 0, 0, 1));
        // A clean address gets its one checked try; the password was wrong.
        assert!(t.admit(from, now).is_ok(), "try {i} is checked");
        if t.record_failure(from, now) {
            one_by_one += 1;
        }
        assert!(t
            .take_reports(now)
            .iter()
            .all(|r| !matches!(r, ThrottleReport::FoldedFailures { .. })));
    }
    assert_eq!(one_by_one, REPORT_CAP, "the cap, written one by one");
    let end = start + Duration::from_secs(120);
    let folded: Vec<String> = t
        .take_reports(end)
        .iter()
        .filter(|r| matches!(r, ThrottleReport::FoldedFailures { .. }))
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        folded,
        ["1980 wrong passwords from 1980 addresses: more than 20 failed sign-ins were recorded within a minute, so the rest are counted together"]
    );
    // The next minute starts afresh.
    assert!(t.record_failure(ip("192.0.2.9"), end));
}

#[test]
fn a_flood_from_many_addresses_writes_a_bounded_number_of_lines() {
    let mut t = Throttle::default();
    let start = Instant::now();
    let mut reports: Vec<(Instant, ThrottleReport)> = Vec::new();
    let mut refusals = 0u64;
    // 2,000 networks in 58 s, each trying twice: its first try is checked (it is clean),
    // its second is refused once the window holds GLOBAL_FAILURES failures.
    for i in 0..2000u64 {
        let now = start + Duration::from_millis(29 * i);
        let from = IpAddr::V6(Ipv6Addr::new(
            0x2001,
            0xdb8,
            (i >> 16) as u16,
            i as u16,
            0,
            0,
            0,
            1,
        ));
        for _ in 0..2 {
            if t.admit(from, now).is_err() {
                refusals += 1;
            }
            reports.extend(t.take_reports(now).into_iter().map(|r| (now, r)));
        }
    }
    assert_eq!(refusals, 1985, "the first 15 networks fill the window");
    assert_eq!(
        reports.len(),
        REPORT_CAP,
        "during the flood: the cap, one by one"
    );
    let end = start + Duration::from_secs(180);
    reports.extend(t.take_reports(end).into_iter().map(|r| (end, r)));
    for (at, _) in &reports {
        let within = reports
            .iter()
            .filter(|(t, _)| *t >= *at && t.duration_since(*at) < REPORT_EVERY)
            .count();
        assert!(within <= REPORT_CAP + 1, "{within} lines within a minute");
    }
    let folded: Vec<String> = reports
        .iter()
        .filter(|(_, r)| matches!(r, ThrottleReport::Folded { .. }))
        .map(|(_, r)| r.to_string())
        .collect();
    assert_eq!(
        folded,
        ["1965 sign-in attempts from 1965 further addresses refused without checking the password: more than 20 addresses were refused within a minute, so the rest are counted together"]
    );
    assert_eq!(
        reports.iter().map(|(_, r)| r.refused()).sum::<u64>(),
        refusals,
        "every refusal is counted once"
    );
    assert_eq!(
        reports[0].1.to_string(),
        "1 sign-in attempt from 2001:db8:0:f::/64 refused without checking the password: too many failed sign-ins from all addresses in the last minute"
    );
}

#[test]
fn a_single_folded_attempt_reads_in_the_singular() {
    let line = ThrottleReport::Folded {
        addresses: 1,
        refused: 1,
    };
    assert_eq!(
        line.to_string(),
        "1 sign-in attempt from 1 further address refused without checking the password: more than 20 addresses were refused within a minute, so the rest are counted together"
    );
}

#[test]
fn refused_attempts_are_reported_once_a_minute_per_address() {
    let mut t = Throttle::default();
    let start = Instant::now();
    let a = ip("192.0.2.1");
    let b = ip("2001:db8::1");
    for _ in 0..FREE_FAILURES {
        t.admit(a, start).expect("free");
        t.admit(b, start).expect("free");
    }
    let mut reports = Vec::new();
    let mut let_through = 0;
    // A flood: 600 refused tries from each address over two and a half minutes.
    for i in 0..600u64 {
        let now = start + Duration::from_millis(250 * i);
        for from in [a, b] {
            // Let through only after a wait, and failing again.
            if t.admit(from, now).is_ok() {
                let_through += 1;
            }
        }
        reports.extend(t.take_reports(now));
    }
    let for_a: Vec<u64> = reports
        .iter()
        .filter(
            |r| matches!(r, ThrottleReport::Address { from, .. } if *from == AddrGroup::from(a)),
        )
        .map(ThrottleReport::refused)
        .collect();
    assert_eq!(for_a.len(), 3, "at once, then once a minute: {reports:?}");
    assert_eq!(for_a[0], 1, "the first refusal is reported at once");
    assert!(
        reports.iter().any(
            |r| matches!(r, ThrottleReport::Address { from, .. } if from.to_string() == "2001:db8::/64")
        ),
        "{reports:?}"
    );
    assert_eq!(
        reports[0].to_string(),
        "1 sign-in attempt from 192.0.2.1 refused without checking the password: too many failed sign-ins from this address"
    );
    // The last minute's refusals are reported when their minute is up.
    reports.extend(t.take_reports(start + Duration::from_secs(180)));
    let refused: u64 = reports.iter().map(ThrottleReport::refused).sum();
    assert_eq!(refused, 1200 - let_through, "every refusal is counted once");
    assert_eq!(
        reports.len(),
        8,
        "four reports per address for 1200 refusals"
    );
}
