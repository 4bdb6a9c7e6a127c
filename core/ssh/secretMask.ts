// Secrets sent to a program (expect's `"secret": true`) masked in everything shown of its output.
// A terminal does not always echo a secret as it was sent: with ECHOCTL it shows a control byte in
// caret form (`pa^Ass` for "pa\x01ss", `^?` for DEL), and a newline comes back as CR LF. Each secret
// is masked in all of these forms, longest first. What it cannot catch is named in README: a
// secret echoed with other output interleaved between its characters, or one containing ESC
// (escape sequences are taken out of the transcript before masking).
export const mask = '********';

/** the ways a terminal may show `secret` when it echoes it */
export function echoForms(secret: string): string[] {
  const crlf = secret.replace(/\r?\n/g, '\r\n');
  const caret = [...secret]
    .map((c) => {
      const code = c.codePointAt(0)!;
      if (c === '\n') return '\r\n';
      if (c === '\t') return c;
      if (code < 0x20) return `^${String.fromCharCode(code + 64)}`;
      if (code === 0x7f) return '^?';
      return c;
    })
    .join('');
  // the transcript drops CR (expectMatcher.ts): each form as it reads there too
  const forms = [secret, crlf, caret];
  return [...new Set([...forms, ...forms.map((f) => f.replace(/\r/g, ''))])].filter((f) => f.length > 0);
}

export class SecretMask {
  private forms: string[] = [];

  add(secret: string): void {
    this.forms = [...new Set([...this.forms, ...echoForms(secret)])].sort((a, b) => b.length - a.length);
  }

  /** `text` with every form of every secret replaced by the mask */
  hide(text: string): string {
    return this.forms.reduce((t, f) => t.split(f).join(mask), text);
  }
}
