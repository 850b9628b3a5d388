// Radix tree over page-aligned token prefixes whose values are KV pages. Requests match their
// prompt on admission and share the matched pages; a lock count on a node (and so on its
// ancestors) keeps its pages from eviction while a request uses them; unlocked leaves are
// evicted in LRU order when the pool runs short. Mirrors SGLang's mem_cache/radix_cache.py.
// Keys live in namespaces (SGLang's extra_key): namespace 0 is the base model, a LoRA adapter's
// uid its own tree, so KV computed under one adapter is never matched for another.
#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "sched/page_pool.h"

namespace sgl::sched {

struct RadixNode {
  std::vector<int32_t> key;    // tokens of this edge, a multiple of the page size
  std::vector<int32_t> pages;  // key.size() / page_size pages
  RadixNode* parent = nullptr;
  std::unordered_map<uint64_t, std::unique_ptr<RadixNode>> children;  // by hash of first page
  int32_t lock_ref = 0;
  uint64_t last_access = 0;
};

class RadixCache {
 public:
  explicit RadixCache(PagePool& pool);

  struct Match {
    std::vector<int32_t> pages;  // of the matched prefix, in order
    RadixNode* node = nullptr;   // last matched node (root when nothing matched)
    int64_t len = 0;             // matched tokens (a page multiple)
  };
  // Longest cached prefix of tokens[0, len) (len floored to a page multiple); touches the path.
  Match match_prefix(const int32_t* tokens, int64_t len, uint64_t ns = 0);

  struct Inserted {
    int64_t existing = 0;  // leading tokens that were already cached: the caller's pages there are duplicates
    int64_t end = 0;       // tokens now owned by the tree; pages past it stay the caller's
  };
  // Inserts tokens[0, len) (a page multiple) with their pages; the tree takes the pages of
  // [existing, end).
  Inserted insert(const int32_t* tokens, int64_t len, const int32_t* pages, uint64_t ns = 0);

  void inc_lock(RadixNode* node);
  void dec_lock(RadixNode* node);
  // Frees at least `num_pages` pages of unlocked leaves, least recently used first (fewer when
  // not enough are evictable). Returns pages freed.
  int64_t evict(int64_t num_pages);
  // Drops every node (all must be unlocked) and frees their pages.
  void reset();
  // Drops namespace `ns` (its nodes must be unlocked) and frees its pages.
  void drop_namespace(uint64_t ns);

  RadixNode* root(uint64_t ns = 0);
  std::vector<RadixNode*> roots();  // of every namespace
  int64_t evictable_tokens() const { return evictable_; }
  int64_t protected_tokens() const { return protected_; }
  int64_t locked_nodes() const { return locked_nodes_; }
  int64_t total_tokens() const { return evictable_ + protected_; }

 private:
  uint64_t page_hash(const int32_t* tokens) const;
  // Splits `node` so that its first `at` tokens become a new parent; returns that parent.
  RadixNode* split(RadixNode* node, int64_t at);
  int64_t match_len(const RadixNode* node, const int32_t* tokens, int64_t len) const;
  void free_subtree(RadixNode* node);

  PagePool& pool_;
  int ps_;
  std::unique_ptr<RadixNode> root_;  // namespace 0
  std::unordered_map<uint64_t, std::unique_ptr<RadixNode>> ns_roots_;
  uint64_t clock_ = 0;
  int64_t evictable_ = 0;
  int64_t protected_ = 0;
  int64_t locked_nodes_ = 0;
};

}  // namespace sgl::sched
