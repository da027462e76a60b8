//! The Lua script run in Redis and the counter key layout.

use sha1::{Digest as _, Sha1};

/// Decides and counts one request atomically.
///
/// `KEYS[1]`: the base key (prefix + hash); `ARGV[1]`: the limit; `ARGV[2]`: the window in
/// milliseconds. Returns `{1, remaining}` when allowed (and counted), `{0, retry_ms}` when
/// denied (not counted), `retry_ms` being when the estimate next falls below the limit.
pub(crate) const LUA: &str = r"
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local idx = math.floor(now / window)
local elapsed = now - idx * window
local cur_key = KEYS[1] .. ':' .. string.format('%d', idx)
local prev_key = KEYS[1] .. ':' .. string.format('%d', idx - 1)
local prev = tonumber(redis.call('GET', prev_key) or '0') or 0
local cur = tonumber(redis.call('GET', cur_key) or '0') or 0
local rest = window - elapsed
local estimate = prev * rest / window + cur
if estimate + 1 <= limit then
  redis.call('INCR', cur_key)
  redis.call('PEXPIRE', cur_key, window * 2)
  return {1, math.floor(limit - estimate - 1)}
end
local excess = estimate + 1 - limit
if prev > 0 and cur + 1 <= limit and excess * window / prev <= rest then
  return {0, math.ceil(excess * window / prev)}
end
if cur + 1 <= limit then
  return {0, rest}
end
return {0, rest + math.ceil(window * (1 - (limit - 1) / cur))}
";

/// The base Redis key of a counter: `<prefix><sha1 hex of "<window_ms>\n<key>">`. The script
/// appends `:<window index>`.
pub fn counter_key(prefix: &str, key: &str, window_ms: u64) -> String {
    let mut h = Sha1::new();
    h.update(window_ms.to_string().as_bytes());
    h.update(b"\n");
    h.update(key.as_bytes());
    let digest = h.finalize();
    let mut out = String::with_capacity(prefix.len() + 40);
    out.push_str(prefix);
    out.push_str(&hex::encode(digest));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_layout() {
        let k = counter_key("portcullis:gl:", "default/web\n10.0.0.1", 60_000);
        assert!(k.starts_with("portcullis:gl:"));
        assert_eq!(k.len(), "portcullis:gl:".len() + 40);
        assert!(
            k["portcullis:gl:".len()..]
                .bytes()
                .all(|b| b.is_ascii_hexdigit())
        );
        assert_ne!(
            k,
            counter_key("portcullis:gl:", "default/web\n10.0.0.1", 1_000)
        );
        assert_ne!(
            k,
            counter_key("portcullis:gl:", "default/web\n10.0.0.2", 60_000)
        );
        assert_eq!(
            k,
            counter_key("portcullis:gl:", "default/web\n10.0.0.1", 60_000)
        );
    }
}
