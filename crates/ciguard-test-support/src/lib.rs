pub mod github_app;
