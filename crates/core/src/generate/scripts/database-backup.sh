#!/bin/sh
# Dumps Gitpod's databases from the in-cluster MySQL into $BACKUP_DIR, a scratch volume of this
# Pod; the upload container then copies the file off the cluster. MySQL 8.4's client dumps the
# 5.7 server: a `--loose-` option is skipped, not refused, by a client that does not know it
# (`--column-statistics` reads a table 5.7 lacks; a GTID_PURGED line breaks a restore).
set -eu
umask 077
stamp=$(date -u +%Y%m%d-%H%M%S)
# The password in an option file, not on the command line nor in the deprecated MYSQL_PWD.
options=$(mktemp)
trap 'rm -f "$options"' EXIT
printf '[client]\nuser=root\npassword="%s"\n' "$DB_PASSWORD" >"$options"
databases=$(mysql --defaults-extra-file="$options" --host="$DB_HOST" --batch --skip-column-names \
  -e 'SHOW DATABASES' | grep -v -x -E 'information_schema|performance_schema|mysql|sys' | tr '\n' ' ')
[ -n "$databases" ] || { echo "no database to dump on $DB_HOST" >&2; exit 1; }
# shellcheck disable=SC2086 # one word per database name
mysqldump --defaults-extra-file="$options" --host="$DB_HOST" --single-transaction --routines \
  --triggers --events --loose-column-statistics=0 --loose-set-gtid-purged=OFF \
  --result-file="$BACKUP_DIR/dump.sql" --databases $databases
gzip -c "$BACKUP_DIR/dump.sql" >"$BACKUP_DIR/gitpod-$stamp.sql.gz"
rm "$BACKUP_DIR/dump.sql"
echo "dumped $databases into gitpod-$stamp.sql.gz"
