mod activity;
mod dashboard;
mod login;
mod planned;

pub use activity::ActivityPage;
pub use dashboard::DashboardPage;
pub use login::LoginPage;
pub use planned::{BackupsPage, MigrationsPage, SettingsPage, TroubleshootingPage};
