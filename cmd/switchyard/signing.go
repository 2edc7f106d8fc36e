package main

import (
	"fmt"

	"github.com/switchyard-dev/switchyard/pkg/api"
	"github.com/switchyard-dev/switchyard/pkg/appsecret"
	"github.com/switchyard-dev/switchyard/pkg/outbound"
	"github.com/switchyard-dev/switchyard/pkg/platformkeys"
	"github.com/switchyard-dev/switchyard/pkg/provider/wixjwt"
	"github.com/switchyard-dev/switchyard/pkg/store/sqlite"
)

// localSigning loads (creating on first start) the platform keys kept in the data directory, 0600:
// the AES key sealing apps' signing secrets and the RSA key of WIX_JWT envelopes. issuer "" is
// wix.com, the issuer @wix/sdk accepts.
func localSigning(dataDir string, store *sqlite.Store, issuer string) (api.Signing, *outbound.Builder, error) {
	keys, err := platformkeys.LoadDir(dataDir)
	if err != nil {
		return api.Signing{}, nil, fmt.Errorf("platform keys: %w", err)
	}
	secrets := appsecret.New(keys.Box, 0, nil)
	signer := wixjwt.NewSigner(keys.JWT, issuer, nil)
	return api.Signing{Secrets: secrets, JWT: signer},
		outbound.New(outbound.Config{Store: store, Secrets: secrets, JWT: signer}), nil
}
