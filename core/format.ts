// Numbers as people read them, one way everywhere (the CLI, the editor, the webview may import it:
// it imports nothing).

/** `12.3 MB` (decimal megabytes, as download sizes are said) */
export function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
