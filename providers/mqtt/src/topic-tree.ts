interface Node<T> {
  children: Map<string, Node<T>>;
  /** Values whose filter ends at this node. */
  values: Set<T>;
  /** Values whose filter ends with `#` at this node (matching this level and everything below). */
  rest: Set<T>;
}

function emptyNode<T>(): Node<T> {
  return { children: new Map(), values: new Set(), rest: new Set() };
}

/**
 * Topic filters indexed level by level, so that routing one message costs the depth of its
 * topic rather than the number of feeds: a thousand feeds on one connection stay cheap.
 */
export class TopicTree<T> {
  private readonly root = emptyNode<T>();

  add(filter: string, value: T): void {
    const levels = filter.split('/');
    let node = this.root;
    for (const [i, level] of levels.entries()) {
      if (level === '#' && i === levels.length - 1) {
        node.rest.add(value);
        return;
      }
      let child = node.children.get(level);
      if (!child) {
        child = emptyNode();
        node.children.set(level, child);
      }
      node = child;
    }
    node.values.add(value);
  }

  remove(filter: string, value: T): void {
    const levels = filter.split('/');
    const path: Array<[Node<T>, string]> = [];
    let node: Node<T> | undefined = this.root;
    for (const [i, level] of levels.entries()) {
      if (level === '#' && i === levels.length - 1) {
        node.rest.delete(value);
        this.prune(path, node);
        return;
      }
      const child: Node<T> | undefined = node.children.get(level);
      if (!child) return;
      path.push([node, level]);
      node = child;
    }
    node.values.delete(value);
    this.prune(path, node);
  }

  /** Every value whose filter matches `topic`. */
  match(topic: string): Set<T> {
    const found = new Set<T>();
    const levels = topic.split('/');
    // Wildcards in the first level never match a `$` topic ($SYS/...), per the specification.
    const dollar = topic.startsWith('$');
    const visit = (node: Node<T>, depth: number): void => {
      const wildcardsAllowed = !(dollar && depth === 0);
      if (wildcardsAllowed) for (const value of node.rest) found.add(value);
      if (depth === levels.length) {
        for (const value of node.values) found.add(value);
        return;
      }
      const exact = node.children.get(levels[depth] as string);
      if (exact) visit(exact, depth + 1);
      const single = wildcardsAllowed ? node.children.get('+') : undefined;
      if (single) visit(single, depth + 1);
    };
    visit(this.root, 0);
    return found;
  }

  private prune(path: Array<[Node<T>, string]>, leaf: Node<T>): void {
    let node = leaf;
    for (let i = path.length - 1; i >= 0; i--) {
      if (node.values.size > 0 || node.rest.size > 0 || node.children.size > 0) return;
      const [parent, level] = path[i] as [Node<T>, string];
      parent.children.delete(level);
      node = parent;
    }
  }
}
