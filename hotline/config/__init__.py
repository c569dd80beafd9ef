"""Settings (environment and TOML) and the structured files in config/."""
