"""The stack's other images for the tests, made from Debian packages the way the Netra
image's base is (netra.deploy.offline): compose.yaml names the official images, and the
tests point it at these (POSTGRES_IMAGE, REDIS_IMAGE, NGINX_IMAGE)."""

from __future__ import annotations

from netra.deploy.offline import DebianImage, debian_image

# The official postgres image's contract, as compose.yaml uses it: POSTGRES_USER,
# POSTGRES_DB, POSTGRES_PASSWORD_FILE; the cluster made on first start in the volume.
POSTGRES_ENTRYPOINT = r"""#!/bin/sh
set -eu
bin=/usr/lib/postgresql/15/bin
data=/var/lib/postgresql/data
if [ ! -s "$data/PG_VERSION" ]; then
    "$bin/initdb" --pgdata="$data" --username="$POSTGRES_USER" \
        --pwfile="$POSTGRES_PASSWORD_FILE" --auth-host=scram-sha-256 --auth-local=trust >/dev/null
    echo "listen_addresses = '*'" >> "$data/postgresql.conf"
    echo "host all all all scram-sha-256" >> "$data/pg_hba.conf"
    echo "CREATE DATABASE \"$POSTGRES_DB\" OWNER \"$POSTGRES_USER\";" \
        | "$bin/postgres" --single -D "$data" postgres >/dev/null
fi
exec "$bin/postgres" -D "$data" -k /tmp
"""

POSTGRES = DebianImage(
    "postgres",
    ("postgresql-15",),
    changes=(
        "USER postgres",
        'ENTRYPOINT ["/usr/local/bin/postgres-entrypoint"]',
        "ENV PATH=/usr/lib/postgresql/15/bin:/usr/bin:/bin",
    ),
    files=(("/usr/local/bin/postgres-entrypoint", POSTGRES_ENTRYPOINT),),
    hooks=(
        'rm -rf "$1/var/lib/postgresql/15" "$1/etc/postgresql/15"',
        'mkdir -p -m 0700 "$1/var/lib/postgresql/data"',
        'chroot "$1" chown postgres:postgres /var/lib/postgresql/data',
    ),
)
REDIS = DebianImage(
    "redis",
    ("redis-server", "redis-tools"),
    changes=("USER redis", 'CMD ["redis-server"]'),
    hooks=('mkdir -p "$1/data"', 'chroot "$1" chown redis:redis /data'),
)
NGINX = DebianImage("nginx", ("nginx",), changes=('CMD ["nginx", "-g", "daemon off;"]',))


def stack_images() -> dict[str, str]:
    """compose.yaml's image variables, pointed at images built here."""
    return {
        "POSTGRES_IMAGE": debian_image(POSTGRES),
        "REDIS_IMAGE": debian_image(REDIS),
        "NGINX_IMAGE": debian_image(NGINX),
    }
