/* dupkey.h - duplicate-detection keys: what two ways of writing one company's
 * name, phone number or e-mail address have in common (docs/architecture.md,
 * search and duplicates). Pure functions over UTF-8 strings: no I/O, no
 * logging, no globals; any thread. The server stores these keys with each
 * customer and finds twins by equal keys; changing what a function returns
 * for some input means bumping DG_DUPKEY_VERSION, so that stored keys are
 * recomputed when a server starts.
 */
#ifndef DG_DUPKEY_H
#define DG_DUPKEY_H

#include <stddef.h>

/* Version of the rules below; stored keys made by another version are
 * recomputed (meta "dup_keys"). */
#define DG_DUPKEY_VERSION 1

/* The key of a company or person name: Unicode NFKC_Casefold (full-width to
 * half-width, case), bracketed parts dropped ("安荣仓储（宁波）有限公司" ->
 * "安荣仓储"), punctuation, symbols and spaces dropped, trailing legal forms
 * dropped (有限公司, 有限责任公司, 股份有限公司, 集团, "Co., Ltd.", "Inc",
 * "LLC", "GmbH"... repeatedly, Latin ones only where a word starts), and
 * leading places (every province, municipality and autonomous region, and
 * common prefecture-level cities, with or without 省/市/自治区) dropped when
 * at least three characters remain, else written in their short form:
 * "北京市迪金自动化设备有限公司" and "北京迪金自动化设备有限公司" both give
 * "迪金自动化设备"; "北京市银行" gives "北京银行". A name that is nothing but
 * a legal form keeps it. Returns a new string (free with free()), empty when
 * `s` has no letter, digit or mark; NULL if `s` is not valid UTF-8. */
char *dg_dupkey_name(const char *s);

/* The coarser key of "a similar name": dg_dupkey_name's result without a
 * branch ("…北京分公司", 办事处, 分厂) and without trailing words that say
 * what a company does rather than who it is (科技, 技术, 贸易, 实业,
 * 自动化, 设备, "technology", "trading"...): "华为技术有限公司" and
 * "华为科技" both give "华为". Empty (no similar-name key) when fewer than
 * two characters would remain (three for a name without Chinese). Returns
 * a new string (free with free()); NULL if `s` is not valid UTF-8. */
char *dg_dupkey_stem(const char *s);

/* The key of a phone number: its digits without the China country code
 * (+86, 0086, 86 before a mobile number), without the trunk 0 of an area
 * code, without an extension (转, 分机, ext, x, #), and only the first
 * number when several are given ("0755-1234567 / 13800138000"). Mobile
 * numbers (11 digits, 1[3-9]…) are their 11 digits; landlines are area code
 * and number: "+86 755 2878 0808", "(0755)28780808" -> "75528780808",
 * "138-0013-8000", "+86 13800138000" -> "13800138000". Fewer than 7 digits
 * give "" (no key). Writes at most cap - 1 bytes and a NUL to `out`
 * (cap >= 1); returns the length written. */
size_t dg_dupkey_phone(const char *s, char *out, size_t cap);

/* The key of an e-mail address: the first address given, without
 * surrounding space or a "mailto:", case-folded: " Sales@ACME.cn " ->
 * "sales@acme.cn". "" when there is no '@' with something on both sides.
 * Returns a new string (free with free()); NULL if `s` is not valid UTF-8. */
char *dg_dupkey_email(const char *s);

#endif
