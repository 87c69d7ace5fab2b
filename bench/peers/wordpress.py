"""WordPress serving the reference letter: Debian's `wordpress` on php-fpm 8.2 behind nginx.

    apt-get install -y --no-install-recommends wordpress wordpress-theme-twentytwentythree \
        php8.2-fpm php8.2-cli php8.2-mysql php8.2-opcache php8.2-mbstring php8.2-xml

The document root is a private copy of /usr/share/wordpress with its own wp-config.php (the
package's reads /etc/wordpress/config-<host>.php: the system's configuration is not
touched). php-fpm (OPcache on, pm = static, pm.max_children = 2) and nginx run in the
foreground with their own configuration and pid files in the peer's folder; WordPress is
installed by wordpress_install.php (wp_install()) into a MariaDB database made for the run
and dropped at the end. Default theme (Twenty Twenty-Three), pretty permalinks, no page
cache. wp-cron is off (it would add its loopback requests to the measurement) and WordPress
may send no request off this machine.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import signal
import subprocess
import urllib.request
from pathlib import Path

from servers import require_free, stop_process, wait_for_port

from . import HERE, Peer

SOURCE = Path("/usr/share/wordpress")
PHP_FPM = "php-fpm8.2"
DATABASE = "clarion_bench_wp"  # also the database user's name
DROP_DATABASE = f"DROP DATABASE IF EXISTS {DATABASE}; DROP USER IF EXISTS '{DATABASE}'@'localhost';"
MYSQL = ["mariadb", "-h", "127.0.0.1", "-u", "root", "--batch", "--skip-column-names"]
APT = (
    "apt-get install -y --no-install-recommends wordpress wordpress-theme-twentytwentythree "
    "php8.2-fpm php8.2-cli php8.2-mysql php8.2-opcache php8.2-mbstring php8.2-xml"
)

WP_CONFIG = """<?php
define('DB_NAME', '{db}');
define('DB_USER', '{db}');
define('DB_PASSWORD', '{password}');
define('DB_HOST', 'localhost:{socket}');
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
{keys}
$table_prefix = 'wp_';
define('WP_HOME', '{home}');
define('WP_SITEURL', '{home}');
define('WP_DEBUG', false);
define('DISABLE_WP_CRON', true);
define('WP_HTTP_BLOCK_EXTERNAL', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
if (!defined('ABSPATH')) {{
    define('ABSPATH', __DIR__ . '/');
}}
require_once ABSPATH . 'wp-settings.php';
"""

PHP_FPM_CONF = """
[global]
pid = {dir}/php-fpm.pid
error_log = {dir}/php-fpm.log
daemonize = no

[wordpress]
user = www-data
group = www-data
listen = {dir}/php-fpm.sock
listen.mode = 0666
pm = static
pm.max_children = 2
php_admin_flag[log_errors] = on
php_admin_value[error_log] = {dir}/php-errors.log
"""

NGINX_CONF = """
worker_processes auto;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        index index.php;
        location / {{ try_files $uri $uri/ /index.php?$args; }}
        location ~ \\.php$ {{
            try_files $uri =404;
            include /etc/nginx/fastcgi.conf;
            fastcgi_pass unix:{dir}/php-fpm.sock;
        }}
    }}
}}
"""

# Answers whether OPcache is on in php-fpm (fetched once, after the letter's page).
OPCACHE_PROBE = """<?php
header('Content-Type: text/plain');
$status = function_exists('opcache_get_status') ? opcache_get_status(false) : false;
echo ($status && $status['opcache_enabled'])
    ? 'on ' . $status['opcache_statistics']['num_cached_scripts'] : 'off';
"""


def as_blocks(body_html: str) -> str:
    """The body as the block editor stores it: a paragraph block per <p> (the letter has
    nothing else; anything else becomes an HTML block). Content with blocks is not passed
    through wpautop, which would double the <br>s."""
    blocks = []
    for part in re.split(r"(<p>.*?</p>)", body_html, flags=re.S):
        part = part.strip()
        if part.startswith("<p>"):
            blocks.append(f"<!-- wp:paragraph -->\n{part}\n<!-- /wp:paragraph -->")
        elif part:
            blocks.append(f"<!-- wp:html -->\n{part}\n<!-- /wp:html -->")
    return "\n\n".join(blocks)


def mysql(sql: str) -> str:
    return subprocess.run(
        [*MYSQL, "-e", sql], capture_output=True, text=True, check=True
    ).stdout.strip()


class WordPress(Peer):
    name = "wordpress"
    port = 8513

    def __init__(self, work, letter):
        super().__init__(work, letter)
        self.path = letter.date.strftime("/%Y/%m/%d/") + letter.slug + "/"
        self.fpm = self.nginx = None
        self.database = False

    def start(self) -> None:
        for tool in (PHP_FPM, "php", "nginx", "mariadb"):
            if not shutil.which(tool):
                raise SystemExit(f"wordpress: {tool} is not installed: {APT}")
        if not (SOURCE / "wp-settings.php").exists():
            raise SystemExit(f"wordpress: {SOURCE} is missing: {APT}")
        require_free(self.port)
        work = self.work
        work.mkdir(parents=True)
        root = work / "root"
        shutil.copytree(SOURCE, root, symlinks=True)
        home = f"http://127.0.0.1:{self.port}"

        # A database and user of its own, made anew (a crashed run may have left them).
        password = secrets.token_hex(16)
        mysql_socket = mysql("SELECT @@socket")
        self.database = True
        mysql(
            f"{DROP_DATABASE} CREATE DATABASE {DATABASE}"
            " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
            f" CREATE USER '{DATABASE}'@'localhost' IDENTIFIED BY '{password}';"
            f" GRANT ALL PRIVILEGES ON {DATABASE}.* TO '{DATABASE}'@'localhost';"
        )
        keys = "\n".join(
            f"define('{name}', '{secrets.token_hex(32)}');"
            for name in ("AUTH_KEY", "SECURE_AUTH_KEY", "LOGGED_IN_KEY", "NONCE_KEY",
                         "AUTH_SALT", "SECURE_AUTH_SALT", "LOGGED_IN_SALT", "NONCE_SALT")
        )  # fmt: skip
        (root / "wp-config.php").unlink()
        (root / "wp-config.php").write_text(
            WP_CONFIG.format(
                db=DATABASE, password=password, socket=mysql_socket, keys=keys, home=home
            )
        )
        (root / "bench-opcache.php").write_text(OPCACHE_PROBE)

        # Install WordPress and publish the letter.
        letter = self.letter.as_json() | {"post_content": as_blocks(self.letter.body_html)}
        (work / "letter.json").write_text(json.dumps(letter))
        done = subprocess.run(
            ["php", str(HERE / "wordpress_install.php"), str(root), str(work / "letter.json")],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        permalink = done.stdout.strip().splitlines()[-1:] or [""]
        if done.returncode != 0 or permalink[0] != home + self.path:
            raise SystemExit(
                f"wordpress: installing failed (exit {done.returncode}, permalink "
                f"{permalink[0]!r}, expected {home + self.path!r}):\n{done.stdout}{done.stderr}"
            )

        (work / "php-fpm.conf").write_text(PHP_FPM_CONF.format(dir=work))
        self.fpm = subprocess.Popen(
            [PHP_FPM, "--nodaemonize", "--fpm-config", str(work / "php-fpm.conf"),
             "-d", "opcache.enable=1"],
        )  # fmt: skip
        (work / "nginx.conf").write_text(NGINX_CONF.format(dir=work, port=self.port, root=root))
        self.nginx = subprocess.Popen(["nginx", "-c", str(work / "nginx.conf"), "-p", str(work)])
        wait_for_port(self.port, "wordpress's nginx", proc=self.nginx)
        self.versions = self.describe(root)

    def describe(self, root: Path) -> str:
        """Versions, and a check that OPcache is on in php-fpm."""
        self.check()  # the first request: php-fpm compiles WordPress into OPcache
        probe = f"http://127.0.0.1:{self.port}/bench-opcache.php"
        with urllib.request.urlopen(probe, timeout=30) as response:
            opcache = response.read().decode()
        if not opcache.startswith("on "):
            raise SystemExit(f"wordpress: OPcache is not on in php-fpm ({opcache!r})")
        version = re.search(
            r"\$wp_version = '([^']+)'", (root / "wp-includes/version.php").read_text()
        ).group(1)
        package = subprocess.run(
            ["dpkg-query", "-W", "-f", "${Version}", "wordpress"], capture_output=True, text=True
        ).stdout
        php = subprocess.run([PHP_FPM, "-v"], capture_output=True, text=True).stdout.split()[1]
        return (
            f"WordPress {version} (Debian {package}), theme twentytwentythree, php-fpm {php} "
            f"(pm static, 2 children, OPcache on: {opcache.split()[1]} scripts cached), "
            f"MariaDB {mysql('SELECT VERSION()')}"
        )

    def stop(self) -> None:
        stop_process(self.nginx, signal.SIGQUIT, "wordpress's nginx")
        stop_process(self.fpm, signal.SIGQUIT, "php-fpm")
        if self.database:
            mysql(DROP_DATABASE)
            self.database = False
