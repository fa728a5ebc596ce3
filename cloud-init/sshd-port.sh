#!/bin/sh
# Moves sshd to port 2244 on Ubuntu 22.04 (ssh.service) and 24.04 (ssh.socket activation).
set -eu
systemctl daemon-reload
if systemctl is-enabled --quiet ssh.socket 2>/dev/null; then
  systemctl restart ssh.socket
fi
systemctl restart ssh.service
