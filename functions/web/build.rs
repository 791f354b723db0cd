//! Embeds every file under `assets/` into the component, each with its content type and an
//! ETag taken from the SHA-256 of its bytes, so a changed asset is revalidated and an unchanged
//! one is answered 304 across deployments. The site's pages are written as their `<main>` and
//! wrapped here in the one head, header and footer they share (`laid_out`), with the sign-in
//! card where a page asks for it (`with_sign_in`).

use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let root =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"))
            .join("assets");
    println!("cargo:rerun-if-changed={}", root.display());

    let mut files = Vec::new();
    collect(&root, &mut files);
    files.sort();

    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let mut table = String::from("pub static ASSETS: &[Asset] = &[\n");
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
        let relative = file.strip_prefix(&root).expect("asset lies under assets/");
        let source = std::fs::read(file).expect("asset is readable");
        // A page is served wrapped in the site's layout, from the copy written here.
        let (file, bytes) = match laid_out(relative, &source) {
            Some(page) => {
                let generated = out_dir.join("pages").join(relative);
                std::fs::create_dir_all(generated.parent().expect("a file has a folder"))
                    .expect("OUT_DIR is writable");
                std::fs::write(&generated, &page).expect("OUT_DIR is writable");
                (generated, page.into_bytes())
            }
            None => (file.clone(), source),
        };
        let digest = Sha256::digest(&bytes);
        let etag = base16ct::lower::encode_string(&digest[..12]);
        let url_path = format!(
            "/{}",
            relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/")
        );
        let content_type = content_type(&file)
            .unwrap_or_else(|| panic!("no content type known for {}", file.display()));
        writeln!(
            table,
            "    Asset {{ path: {url_path:?}, content_type: {content_type:?}, etag: \"\\\"{etag}\\\"\", body: include_bytes!({:?}) }},",
            file.display().to_string()
        )
        .expect("writing to a String");
    }
    table.push_str("];\n");

    std::fs::write(out_dir.join("assets.rs"), table).expect("OUT_DIR is writable");
}

/// The site's navigation: where, what, and whether only the department pages list it.
const NAVIGATION: &[(&str, &str, bool)] = &[
    ("/", "报告核验", false),
    ("/apply.html", "申请报告", false),
    ("/desk.html", "责任单位工作台", false),
    ("/stats-collection.html", "归集责任清单", true),
    ("/stats-usage.html", "使用统计", true),
    ("/guide.html", "办事指南", false),
];

/// A site page, whole: `source` is its `<main>` after a first line
/// `<!--page title="…" script="/js/….js" nav="public|department"-->`, and
/// every page shares the head, header (its own entry marked current) and
/// footer written here. None for any other file.
fn laid_out(relative: &Path, source: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(source).ok()?;
    let (marker, main) = text.strip_prefix("<!--page ")?.split_once("-->\n")?;
    let attribute = |name: &str| attribute(relative, marker, name);
    let department = match attribute("nav") {
        "public" => false,
        "department" => true,
        other => panic!(
            "{}: nav=\"{other}\" is neither public nor department",
            relative.display()
        ),
    };
    let here = match relative.to_str()? {
        "index.html" => "/".to_owned(),
        page => format!("/{page}"),
    };
    let mut items = String::new();
    for (href, label, department_only) in NAVIGATION {
        if *department_only && !department {
            continue;
        }
        let current = if *href == here {
            r#" aria-current="page""#
        } else {
            ""
        };
        writeln!(
            items,
            r#"        <li><a href="{href}"{current}>{label}</a></li>"#
        )
        .expect("writing to a String");
    }
    let main = with_sign_in(relative, main, &here);
    let (title, script) = (attribute("title"), attribute("script"));
    Some(format!(
        r##"<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - 专用信用报告服务</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/app.css">
<script type="module" src="{script}"></script>
</head>
<body>
<a class="skip" href="#main">跳到正文</a>
<header class="site-header">
  <div class="inner">
    <a class="site-name" href="/">专用信用报告服务</a>
    <nav aria-label="主导航">
      <ul>
{items}      </ul>
    </nav>
  </div>
</header>
{main}<footer class="site-footer">
  <div class="inner">
    <p>专用信用报告替代无违法违规记录证明暨企业上市合法合规信息核查（永发改字〔2024〕62号）</p>
    <p>核验结果以本服务记录为准；对报告内容有异议可在“申请报告”页提出异议或申请信用修复。</p>
  </div>
</footer>
</body>
</html>
"##
    ))
}

/// The value of `name="…"` in a page's marker or directive.
fn attribute<'a>(relative: &Path, marker: &'a str, name: &str) -> &'a str {
    marker
        .split_once(&format!("{name}=\""))
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(value, _)| value)
        .unwrap_or_else(|| panic!("{}: `{marker}` has no {name}", relative.display()))
}

/// `main` with its line `<!--sign-in who="…" token="…"-->` replaced by the sign-in card of the
/// pages that need a signed-in user: who signs in through the identity provider, and the
/// `make token` arguments of the development token the card also accepts in development mode.
fn with_sign_in(relative: &Path, main: &str, here: &str) -> String {
    let Some((before, rest)) = main.split_once("<!--sign-in ") else {
        return main.to_owned();
    };
    let (directive, after) = rest
        .split_once("-->\n")
        .unwrap_or_else(|| panic!("{}: an unclosed sign-in directive", relative.display()));
    let (who, token) = (
        attribute(relative, directive, "who"),
        attribute(relative, directive, "token"),
    );
    format!(
        r#"{before}<section class="card" aria-labelledby="sign-in-title">
    <h2 id="sign-in-title">登录</h2>
    <div class="provider-sign-in" hidden>
      <a class="button" id="provider-sign-in" href="/auth/login?return_to={here}">登录</a>
      <p class="hint">{who}通过政务服务网统一身份认证登录。</p>
    </div>
    <form id="sign-in" class="development-sign-in" novalidate hidden>
      <div class="field">
        <label for="token-input">开发令牌（仅限开发环境）</label>
        <textarea id="token-input" name="token" rows="3" autocomplete="off" spellcheck="false" aria-describedby="token-hint" required></textarea>
        <p class="hint" id="token-hint">本服务运行在开发模式，也接受开发令牌：可用 make token {token} 生成，令牌只保存在本浏览器标签页中。生产环境不提供此入口。</p>
      </div>
      <button type="submit" class="secondary">使用开发令牌登录</button>
    </form>
    <div class="sign-in-status" aria-live="polite"></div>
    <div id="signed-in" class="signed-in" hidden>
      <span class="who"></span>
      <button type="button" class="secondary small sign-out">退出</button>
    </div>
  </section>
{after}"#
    )
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("assets/ is readable") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            collect(&path, files);
        } else {
            files.push(path);
        }
    }
}

fn content_type(path: &Path) -> Option<&'static str> {
    Some(match path.extension()?.to_str()? {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        "woff2" => "font/woff2",
        _ => return None,
    })
}
