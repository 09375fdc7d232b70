//! What each console role may do: the table in docs/console.md, in one place.

use parley_store::ConsoleRole;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    UsersManage,
    KeysManage,
    WebhooksManage,
    WebhooksRead,
    TemplatesWrite,
    TemplatesRead,
    MessagesSend,
    LogsRead,
    LogsExport,
    SimulatorUse,
    SimulatorControl,
}

impl Permission {
    pub const ALL: [Self; 11] = [
        Self::UsersManage,
        Self::KeysManage,
        Self::WebhooksManage,
        Self::WebhooksRead,
        Self::TemplatesWrite,
        Self::TemplatesRead,
        Self::MessagesSend,
        Self::LogsRead,
        Self::LogsExport,
        Self::SimulatorUse,
        Self::SimulatorControl,
    ];

    /// The name the console sees in its session's `permissions`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UsersManage => "users.manage",
            Self::KeysManage => "keys.manage",
            Self::WebhooksManage => "webhooks.manage",
            Self::WebhooksRead => "webhooks.read",
            Self::TemplatesWrite => "templates.write",
            Self::TemplatesRead => "templates.read",
            Self::MessagesSend => "messages.send",
            Self::LogsRead => "logs.read",
            Self::LogsExport => "logs.export",
            Self::SimulatorUse => "simulator.use",
            Self::SimulatorControl => "simulator.control",
        }
    }

    /// What a refusal says: "Your role may not …".
    pub fn describe(self) -> &'static str {
        match self {
            Self::UsersManage => "manage console users",
            Self::KeysManage => "manage API keys",
            Self::WebhooksManage => "change webhooks",
            Self::WebhooksRead => "see webhooks",
            Self::TemplatesWrite => "create or delete templates",
            Self::TemplatesRead => "see templates",
            Self::MessagesSend => "send messages",
            Self::LogsRead => "read the message log",
            Self::LogsExport => "export the message log",
            Self::SimulatorUse => "use the simulated phones",
            Self::SimulatorControl => "control the simulator",
        }
    }
}

pub fn allows(role: ConsoleRole, permission: Permission) -> bool {
    use ConsoleRole::*;
    use Permission::*;
    match permission {
        UsersManage | KeysManage => role == Admin,
        WebhooksManage | TemplatesWrite | SimulatorControl => matches!(role, Admin | Supervisor),
        WebhooksRead | LogsExport => matches!(role, Admin | Supervisor | Analyst),
        MessagesSend | SimulatorUse => matches!(role, Admin | Supervisor | Agent),
        TemplatesRead | LogsRead => true,
    }
}

pub fn permissions_of(role: ConsoleRole) -> Vec<Permission> {
    Permission::ALL
        .into_iter()
        .filter(|p| allows(role, *p))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(role: ConsoleRole) -> Vec<&'static str> {
        permissions_of(role)
            .into_iter()
            .map(Permission::as_str)
            .collect()
    }

    #[test]
    fn each_role_holds_what_docs_console_md_grants() {
        assert_eq!(names(ConsoleRole::Admin).len(), Permission::ALL.len());
        assert_eq!(
            names(ConsoleRole::Supervisor),
            [
                "webhooks.manage",
                "webhooks.read",
                "templates.write",
                "templates.read",
                "messages.send",
                "logs.read",
                "logs.export",
                "simulator.use",
                "simulator.control"
            ]
        );
        assert_eq!(
            names(ConsoleRole::Agent),
            [
                "templates.read",
                "messages.send",
                "logs.read",
                "simulator.use"
            ]
        );
        assert_eq!(
            names(ConsoleRole::Analyst),
            [
                "webhooks.read",
                "templates.read",
                "logs.read",
                "logs.export"
            ]
        );
    }
}
