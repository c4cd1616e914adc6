mod activity;
mod backups;
mod dashboard;
mod doctor;
mod job;
mod login;
mod migrations;
mod rehearsal;
mod settings;
mod troubleshooting;

pub use activity::ActivityPage;
pub use backups::BackupsPage;
pub use dashboard::DashboardPage;
pub use job::JobPage;
pub use login::LoginPage;
pub use migrations::MigrationsPage;
pub use settings::SettingsPage;
pub use troubleshooting::TroubleshootingPage;
