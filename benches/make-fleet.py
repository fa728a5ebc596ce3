#!/usr/bin/env python3
"""Writes N varied railyard sites under DIR (sites/<name>/site.yaml + secrets.sops.yaml).

Usage: benches/make-fleet.py N DIR

Sites vary provider, size, location, worker count, ACME server, auth providers and optional
features; every one uses the example secrets file (encrypted to examples/age.key), whose keys
they reference. Deterministic: the same N gives the same files.
"""
import pathlib
import shutil
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
SECRETS = ROOT / "examples" / "hetzner-small" / "secrets.sops.yaml"
# v1alpha2 keeps the machines' secrets (the k3s tokens) in a file of their own.
MACHINE_SECRETS = ROOT / "examples" / "hetzner-small" / "machine-secrets.sops.yaml"
KEY = (ROOT / "examples" / "hetzner-small" / "site.yaml").read_text().split("authorizedKeys:\n      - ", 1)[1].split("\n", 1)[0]
RECIPIENT = (ROOT / "examples" / "age.key").read_text().split("# public key: ", 1)[1].split("\n", 1)[0]
PLACES = {
    "hetzner": ["nbg1", "fsn1", "hel1", "ash", "hil", "sin"],
    "digitalocean": ["lon1", "fra1", "ams3", "nyc3"],
    "scaleway": ["fr-par-1", "nl-ams-1", "pl-waw-2"],
    "azure": ["uksouth", "westeurope", "eastus"],
}


def site(i: int) -> str:
    provider = list(PLACES)[i % 4]
    location = PLACES[provider][i % len(PLACES[provider])]
    medium = provider == "hetzner" and i % 3 == 0
    size = "medium" if medium else "small"
    # medium takes 3 to 97 workers (crates/core/src/defaults.rs): 95 counts cycle through them
    size_data = f"  sizeData:\n    workers: {3 + i % 95}\n" if medium else ""
    acme = ["production", "staging"][i % 2]
    features = "  features:\n    monitoring: true\n" if i % 5 == 0 else ""
    auth = (
        "    authProviders:\n      - id: github\n        host: github.com\n        type: GitHub\n"
        f"        clientId: client-{i}\n        clientSecret:\n          secretKey: github_client_secret\n"
        if i % 2 == 0
        else ""
    )
    return f"""apiVersion: railyard.dev/v1alpha2
kind: Site
metadata:
  name: site-{i:04d}
spec:
  cloud:
    provider: {provider}
    location: {location}
  size: {size}
{size_data}  domain: gitpod-{i:04d}.example.com
  ssh:
    authorizedKeys:
      - {KEY}
  git:
    url: ssh://git@github.com/example/fleet.git
    path: rendered
  certManager:
    email: ops@example.com
    acme: {acme}
    dns01:
      cloudflare:
        apiToken:
          secretKey: cloudflare_api_token
  gitpod:
    installer:
      image: registry.example.com/gitpod/installer
      version: "2023.03.{i % 7}"
{auth}{features}  secrets:
    file: secrets.sops.yaml
    ageRecipients:
      - {RECIPIENT}
"""


def main() -> None:
    count, out = int(sys.argv[1]), pathlib.Path(sys.argv[2])
    for i in range(count):
        directory = out / "sites" / f"site-{i:04d}"
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "site.yaml").write_text(site(i))
        shutil.copyfile(SECRETS, directory / "secrets.sops.yaml")
        shutil.copyfile(MACHINE_SECRETS, directory / "machine-secrets.sops.yaml")


if __name__ == "__main__":
    main()
