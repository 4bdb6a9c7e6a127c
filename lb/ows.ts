// HTTP's optional whitespace (RFC 9110 5.6.3: spaces and tabs) around a field value, for the
// request reader (front/) and the answer reader (upstream/) alike.

/** a field value without the spaces and tabs around it (String.trim would also take 0xA0, a legal byte) */
export function trimOws(v: string): string {
  let a = 0;
  let b = v.length;
  while (a < b && (v.charCodeAt(a) === 32 || v.charCodeAt(a) === 9)) a++;
  while (b > a && (v.charCodeAt(b - 1) === 32 || v.charCodeAt(b - 1) === 9)) b--;
  return a === 0 && b === v.length ? v : v.slice(a, b);
}
