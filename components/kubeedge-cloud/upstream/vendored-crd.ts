/** One CustomResourceDefinition file of an upstream chart, kept as its exact text. */
export interface VendoredCrd {
  /** The upstream tag, e.g. `v1.23.1`. */
  readonly tag: string;
  /** Path in kubeedge/kubeedge at that tag. */
  readonly path: string;
  /** The file's git blob id at that tag (`git ls-tree <tag> <path>`): the text below hashes to it. */
  readonly blob: string;
  /** The file, byte for byte. */
  readonly yaml: string;
}
