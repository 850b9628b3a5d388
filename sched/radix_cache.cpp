#include "sched/radix_cache.h"

#include <cassert>
#include <queue>

namespace sgl::sched {

RadixCache::RadixCache(PagePool& pool) : pool_(pool), ps_(pool.page_size()) {
  root_ = std::make_unique<RadixNode>();
  root_->lock_ref = 1;  // the root is never evicted
}

uint64_t RadixCache::page_hash(const int32_t* tokens) const {
  if (ps_ == 1) return static_cast<uint32_t>(tokens[0]);
  uint64_t h = 1469598103934665603ull;  // FNV-1a over the page's ids
  for (int i = 0; i < ps_; ++i) {
    h ^= static_cast<uint32_t>(tokens[i]);
    h *= 1099511628211ull;
  }
  return h;
}

int64_t RadixCache::match_len(const RadixNode* node, const int32_t* tokens, int64_t len) const {
  const int64_t n = std::min<int64_t>(len, static_cast<int64_t>(node->key.size()));
  int64_t i = 0;
  while (i < n && node->key[i] == tokens[i]) ++i;
  return i / ps_ * ps_;  // only whole pages are shared
}

RadixNode* RadixCache::split(RadixNode* node, int64_t at) {
  RadixNode* parent = node->parent;
  auto self = std::move(parent->children[page_hash(node->key.data())]);
  auto mid = std::make_unique<RadixNode>();
  mid->key.assign(node->key.begin(), node->key.begin() + at);
  mid->pages.assign(node->pages.begin(), node->pages.begin() + at / ps_);
  mid->parent = parent;
  mid->lock_ref = node->lock_ref;  // the new parent is on every path the old node was
  mid->last_access = node->last_access;
  if (mid->lock_ref > 0) ++locked_nodes_;
  node->key.erase(node->key.begin(), node->key.begin() + at);
  node->pages.erase(node->pages.begin(), node->pages.begin() + at / ps_);
  node->parent = mid.get();
  RadixNode* m = mid.get();
  m->children[page_hash(node->key.data())] = std::move(self);
  parent->children[page_hash(m->key.data())] = std::move(mid);
  return m;
}

RadixNode* RadixCache::root(uint64_t ns) {
  if (ns == 0) return root_.get();
  auto& r = ns_roots_[ns];
  if (!r) {
    r = std::make_unique<RadixNode>();
    r->lock_ref = 1;  // a namespace's root is never evicted (drop_namespace removes it)
  }
  return r.get();
}

std::vector<RadixNode*> RadixCache::roots() {
  std::vector<RadixNode*> out{root_.get()};
  for (auto& [ns, r] : ns_roots_) out.push_back(r.get());
  return out;
}

RadixCache::Match RadixCache::match_prefix(const int32_t* tokens, int64_t len, uint64_t ns) {
  Match m;
  len = len / ps_ * ps_;
  RadixNode* node = root(ns);
  const uint64_t now = ++clock_;
  node->last_access = now;
  int64_t pos = 0;
  while (pos < len) {
    auto it = node->children.find(page_hash(tokens + pos));
    if (it == node->children.end()) break;
    RadixNode* child = it->second.get();
    const int64_t k = match_len(child, tokens + pos, len - pos);
    if (k == 0) break;  // hash collision on the first page
    if (k < static_cast<int64_t>(child->key.size())) child = split(child, k);
    child->last_access = now;
    m.pages.insert(m.pages.end(), child->pages.begin(), child->pages.end());
    pos += k;
    node = child;
  }
  m.node = node;
  m.len = pos;
  return m;
}

RadixCache::Inserted RadixCache::insert(const int32_t* tokens, int64_t len, const int32_t* pages,
                                        uint64_t ns) {
  Inserted r;
  len = len / ps_ * ps_;
  RadixNode* node = root(ns);
  const uint64_t now = ++clock_;
  int64_t pos = 0;
  while (pos < len) {
    const uint64_t h = page_hash(tokens + pos);
    auto it = node->children.find(h);
    if (it == node->children.end()) {
      auto leaf = std::make_unique<RadixNode>();
      leaf->key.assign(tokens + pos, tokens + len);
      leaf->pages.assign(pages + pos / ps_, pages + len / ps_);
      leaf->parent = node;
      leaf->last_access = now;
      evictable_ += len - pos;
      node->children[h] = std::move(leaf);
      r.existing = pos;
      r.end = len;
      return r;
    }
    RadixNode* child = it->second.get();
    const int64_t k = match_len(child, tokens + pos, len - pos);
    if (k == 0) {  // a different page with the same hash: keep the rest out of the tree
      r.existing = r.end = pos;
      return r;
    }
    if (k < static_cast<int64_t>(child->key.size())) child = split(child, k);
    child->last_access = now;
    pos += k;
    node = child;
  }
  r.existing = r.end = pos;
  return r;
}

void RadixCache::inc_lock(RadixNode* node) {
  for (; node != nullptr && node->parent != nullptr; node = node->parent) {  // roots have no parent
    if (node->lock_ref++ == 0) {
      evictable_ -= static_cast<int64_t>(node->key.size());
      protected_ += static_cast<int64_t>(node->key.size());
      ++locked_nodes_;
    }
  }
}

void RadixCache::dec_lock(RadixNode* node) {
  for (; node != nullptr && node->parent != nullptr; node = node->parent) {
    assert(node->lock_ref > 0);
    if (--node->lock_ref == 0) {
      evictable_ += static_cast<int64_t>(node->key.size());
      protected_ -= static_cast<int64_t>(node->key.size());
      --locked_nodes_;
    }
  }
}

int64_t RadixCache::evict(int64_t num_pages) {
  using Item = std::pair<uint64_t, RadixNode*>;
  std::priority_queue<Item, std::vector<Item>, std::greater<>> heap;
  std::vector<RadixNode*> stack = roots();
  while (!stack.empty()) {
    RadixNode* n = stack.back();
    stack.pop_back();
    if (n->children.empty()) {
      if (n->lock_ref == 0 && n->parent != nullptr) heap.emplace(n->last_access, n);
    } else {
      for (auto& [h, c] : n->children) stack.push_back(c.get());
    }
  }
  int64_t freed = 0;
  while (freed < num_pages && !heap.empty()) {
    RadixNode* leaf = heap.top().second;
    heap.pop();
    pool_.free(leaf->pages.data(), static_cast<int64_t>(leaf->pages.size()));
    freed += static_cast<int64_t>(leaf->pages.size());
    evictable_ -= static_cast<int64_t>(leaf->key.size());
    RadixNode* parent = leaf->parent;
    parent->children.erase(page_hash(leaf->key.data()));
    if (parent->parent != nullptr && parent->children.empty() && parent->lock_ref == 0)
      heap.emplace(parent->last_access, parent);
  }
  return freed;
}

void RadixCache::free_subtree(RadixNode* node) {
  for (auto& [h, c] : node->children) {
    free_subtree(c.get());
    pool_.free(c->pages.data(), static_cast<int64_t>(c->pages.size()));
    evictable_ -= static_cast<int64_t>(c->key.size());
  }
  node->children.clear();
}

void RadixCache::reset() {
  for (RadixNode* r : roots()) free_subtree(r);
  ns_roots_.clear();
  evictable_ = protected_ = locked_nodes_ = 0;
}

void RadixCache::drop_namespace(uint64_t ns) {
  auto it = ns_roots_.find(ns);
  if (it == ns_roots_.end()) return;
  free_subtree(it->second.get());  // unlocked: every token there was evictable
  ns_roots_.erase(it);
}

}  // namespace sgl::sched
