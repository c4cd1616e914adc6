mod activity;
mod dashboard;
mod login;
mod migrations;
mod planned;

pub use activity::ActivityPage;
pub use dashboard::DashboardPage;
pub use login::LoginPage;
pub use migrations::MigrationsPage;
pub use planned::{BackupsPage, SettingsPage, TroubleshootingPage};
