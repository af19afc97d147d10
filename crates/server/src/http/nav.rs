//! The main navigation: pages grouped by process (service desk, configuration, service
//! levels, security, administration), each group a page of its own. The top bar lists the
//! groups a user has something in; on a page of a group, a second bar lists the group's
//! pages. The current group is marked `aria-current="true"`, the current page
//! `aria-current="page"`.

use custos_core::authz::{Permission, Principal};

/// A page in the navigation, and what a user needs to see it there.
pub struct Entry {
    pub href: &'static str,
    pub label: &'static str,
    pub about: &'static str,
    perm: Permission,
}

/// A process group: its own page, and the pages it holds.
pub struct Section {
    pub href: &'static str,
    pub label: &'static str,
    pub about: &'static str,
    entries: &'static [Entry],
}

const fn entry(
    href: &'static str,
    label: &'static str,
    perm: Permission,
    about: &'static str,
) -> Entry {
    Entry {
        href,
        label,
        about,
        perm,
    }
}

/// Every group and its pages, in the order the bar shows them. A new domain adds its pages
/// here (one `entry(..)` each).
pub const SECTIONS: &[Section] = &[
    Section {
        href: "/service-desk",
        label: "Service desk",
        about: "Incidents, the requester portal, problems, known errors and announcements.",
        entries: &[
            entry(
                "/incidents",
                "Incidents",
                Permission::ReadIncidents,
                "Record, search, work and close incidents; security incidents follow the security procedure.",
            ),
            entry(
                "/portal",
                "Report a problem",
                Permission::ReportIncidents,
                "Tell the service desk about something broken, slow or suspicious.",
            ),
            entry(
                "/portal#my-reports",
                "My reports",
                Permission::ReportIncidents,
                "What you reported and where it stands.",
            ),
            entry(
                "/problems",
                "Problems",
                Permission::ReadProblems,
                "Root causes behind incidents, with security-reviewed workarounds and solutions.",
            ),
            entry(
                "/known-errors",
                "Known errors",
                Permission::ReadProblems,
                "Problems with a published workaround, to apply to incidents.",
            ),
            entry(
                "/announcements",
                "Announcements",
                Permission::ManageAnnouncements,
                "Service notices on the portal and the dashboard: maintenance, outages, news.",
            ),
        ],
    },
    Section {
        href: "/configuration",
        label: "Configuration",
        about: "The configuration items, how they depend on each other, and their classification.",
        entries: &[entry(
            "/cmdb",
            "CMDB",
            Permission::ReadCmdb,
            "Configuration items, relationships, impact and classification with its source.",
        )],
    },
    Section {
        href: "/service-levels",
        label: "Service levels",
        about: "The service catalogue, customers, suppliers and the SLAs with their security section and reports.",
        entries: &[
            entry(
                "/services",
                "Services",
                Permission::ReadServiceLevels,
                "The service catalogue: owners, service hours, security baseline, standard targets.",
            ),
            entry(
                "/slas",
                "SLAs",
                Permission::ReadServiceLevels,
                "Agreements with their security requirements, KPIs and reports.",
            ),
            entry(
                "/customers",
                "Customers",
                Permission::ReadServiceLevels,
                "Customers and their representatives.",
            ),
            entry(
                "/suppliers",
                "Suppliers",
                Permission::ReadAllServiceLevels,
                "Suppliers, their contracts and the controls they assure.",
            ),
        ],
    },
    Section {
        href: "/security",
        label: "Security",
        about: "The controls the classification requires, where they are missing, and the audit log.",
        entries: &[
            entry(
                "/controls",
                "Controls",
                Permission::ReadControls,
                "Control catalogues and baselines (NIST SP 800-53).",
            ),
            entry(
                "/gaps",
                "Gaps",
                Permission::ReadCmdb,
                "Required controls not implemented, per CI and service.",
            ),
            entry(
                "/audit",
                "Audit log",
                Permission::ReadAudit,
                "Every change, in a tamper-evident chain.",
            ),
        ],
    },
    Section {
        href: "/administration",
        label: "Administration",
        about: "Accounts, departments and their security profiles, support groups, notifications.",
        entries: &[
            entry(
                "/admin/users",
                "Users",
                Permission::ReadUsers,
                "Accounts, roles and departments.",
            ),
            entry(
                "/admin/departments",
                "Departments",
                Permission::ReadDepartments,
                "Departments and their security profiles.",
            ),
            entry(
                "/admin/groups",
                "Groups",
                Permission::ManageGroups,
                "Support groups that incidents are assigned to.",
            ),
            entry(
                "/admin/notifications",
                "Notifications",
                Permission::ManageNotifications,
                "Deliveries by e-mail and webhook, and their retries.",
            ),
        ],
    },
];

/// A link in a navigation bar; `aria` is its `aria-current`, if any.
pub struct NavLink {
    pub href: &'static str,
    pub label: &'static str,
    pub aria: Option<&'static str>,
}

/// The second bar: the pages of the current group.
pub struct SectionNav {
    pub label: &'static str,
    pub links: Vec<NavLink>,
}

/// What the layout needs about the signed-in user.
pub struct Nav {
    pub email: String,
    pub display_name: String,
    pub csrf: String,
    /// The top bar: the dashboard, the groups the user has pages in, the account.
    pub links: Vec<NavLink>,
    pub section: Option<SectionNav>,
}

impl Section {
    /// The pages of this group `p` may open.
    pub fn entries_for<'p>(
        &'static self,
        p: &'p Principal,
    ) -> impl Iterator<Item = &'static Entry> + 'p {
        self.entries.iter().filter(move |e| p.has(e.perm))
    }

    fn holds(&self, current: &str) -> bool {
        self.href == current || self.entries.iter().any(|e| e.href == current)
    }
}

impl Nav {
    /// The navigation as `p` sees it on the page at `current` (its path in `SECTIONS`, a
    /// group's page, `/` or `/account`); `csrf` is the session's token for the sign-out
    /// form.
    pub fn of(p: &Principal, csrf: String, current: &str) -> Self {
        let mark = |href: &str| (href == current).then_some("page");
        let mut links = vec![NavLink {
            href: "/",
            label: "Dashboard",
            aria: mark("/"),
        }];
        let mut section = None;
        for s in SECTIONS {
            if s.entries_for(p).next().is_none() {
                continue;
            }
            let here = s.holds(current);
            links.push(NavLink {
                href: s.href,
                label: s.label,
                aria: mark(s.href).or(here.then_some("true")),
            });
            if here {
                section = Some(SectionNav {
                    label: s.label,
                    links: s
                        .entries_for(p)
                        .map(|e| NavLink {
                            href: e.href,
                            label: e.label,
                            aria: mark(e.href),
                        })
                        .collect(),
                });
            }
        }
        links.push(NavLink {
            href: "/account",
            label: "My account",
            aria: mark("/account"),
        });
        Self {
            email: p.email.to_string(),
            display_name: p.display_name.clone(),
            csrf,
            links,
            section,
        }
    }
}
