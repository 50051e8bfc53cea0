package app

// Version is the release; set with -ldflags "-X vaultwatch/internal/app.Version=v1.2.3".
var Version = "dev"
