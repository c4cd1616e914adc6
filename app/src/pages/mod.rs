mod activity;
mod backups;
mod dashboard;
mod job;
mod login;
mod migrations;
mod planned;

pub use activity::ActivityPage;
pub use backups::BackupsPage;
pub use dashboard::DashboardPage;
pub use login::LoginPage;
pub use migrations::MigrationsPage;
pub use planned::{SettingsPage, TroubleshootingPage};
