<?php
/**
 * Installs WordPress non-interactively and publishes the reference letter.
 *
 *     php wordpress_install.php DOCUMENT_ROOT LETTER.json
 *
 * Run by bench/peers/wordpress.py with the private copy's own wp-config.php (database,
 * WP_HOME). Prints the letter's permalink.
 */

if ($argc !== 3) {
    fwrite(STDERR, "usage: php wordpress_install.php DOCUMENT_ROOT LETTER.json\n");
    exit(2);
}
[, $root, $letter_file] = $argv;
$letter = json_decode(file_get_contents($letter_file), true, 512, JSON_THROW_ON_ERROR);

define('WP_INSTALLING', true);

// No mail about the new site (wp-admin/includes/upgrade.php defines it unless it exists).
function wp_new_blog_notification($blog_title, $blog_url, $user_id, $password) {}

require $root . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';

function fail($message) {
    fwrite(STDERR, "wordpress_install.php: $message\n");
    exit(1);
}

$installed = wp_install(
    $letter['site_name'], 'admin', 'admin@example.invalid', true, '', wp_generate_password(24)
);
$user_id = $installed['user_id'];
wp_set_current_user($user_id);  // an administrator writes the post, as on a real site

update_option('blogdescription', $letter['tagline']);
update_option('timezone_string', 'Europe/London');

// Pretty permalinks, as Clarion's addresses: /2021/07/19/letter-to-the-foreign-secretary/.
global $wp_rewrite;
$wp_rewrite->set_permalink_structure('/%year%/%monthnum%/%day%/%postname%/');
flush_rewrite_rules(false);

// The sample post and page: the letter is the site's only post.
wp_delete_post(1, true);
wp_delete_post(2, true);

$names = explode(' ', $letter['author']);
$updated = wp_update_user([
    'ID' => $user_id,
    'display_name' => $letter['author'],
    'nickname' => $letter['author'],
    'first_name' => implode(' ', array_slice($names, 0, -1)),
    'last_name' => end($names),
]);
if (is_wp_error($updated)) {
    fail($updated->get_error_message());
}

$term = wp_insert_term($letter['category'], 'category', ['slug' => $letter['category_slug']]);
if (is_wp_error($term)) {
    fail($term->get_error_message());
}

$post_id = wp_insert_post([
    'post_title' => $letter['title'],
    'post_name' => $letter['slug'],
    'post_content' => $letter['post_content'],
    'post_excerpt' => $letter['excerpt'],
    'post_status' => 'publish',
    'post_author' => $user_id,
    'post_date' => $letter['date'],
    'post_category' => [$term['term_id']],
], true);
if (is_wp_error($post_id)) {
    fail($post_id->get_error_message());
}

echo get_permalink($post_id), "\n";
