package simulate

// logVaultName is the vault an access lands on in the provider's log, as
// vaultwatch's reader names it: the key vault for Azure, the account and
// region for AWS (an AWS "vault" is Secrets Manager in one account and
// region), and for Vault the mount the call goes through: the KV mount for
// secrets, but sys for control-plane calls (policies, audit devices,
// generate-root, mounts), transit for key operations, the auth method's
// mount for logins. Labels name vaults this way so that an alert on the
// logs can be matched to them.
func logVaultName(a *Access) string {
	v := a.Vault
	switch v.Provider {
	case AWS:
		return v.Account + "/" + v.Region
	case HashiVault:
		switch a.Op {
		case OpKeyGet, OpKeyList, OpKeyCreate, OpKeyRotate, OpKeyDelete, OpKeyBackup,
			OpKeyDecrypt, OpKeyEncrypt, OpKeyUnwrap, OpKeyWrap, OpKeySign:
			return "transit"
		case OpVaultGet, OpPolicyChange, OpNetworkChange, OpAuditDisable, OpAuditEnable,
			OpGenerateRoot, OpVaultListAll:
			return "sys"
		case OpLogin:
			return "auth/" + vaultMethod(a.Principal)
		case OpTokenLookup:
			return "auth/token"
		}
	}
	return v.Name
}
