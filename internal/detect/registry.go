package detect

// Detectors returns a fresh set of every detector, with default settings.
func Detectors() []Detector {
	return []Detector{
		ThreatIntel{},
		Decoy{},
		AuditTampering{},
		PrivilegedToken{},
		&DestructiveBurst{},
		&CredentialProbing{},
		&CryptoVolume{},
		&CrossProvider{},
		&ManyVaults{},
		&UnusualUserDenied{},
		&PolicyChangeThenGet{},
		&ListThenGet{},
		&Newcomers{},
		&OperationPattern{},
		&HighVolume{},
		&UnusualIP{},
		&UserAppPair{},
	}
}
