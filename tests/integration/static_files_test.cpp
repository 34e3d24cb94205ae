// Static file resolution on a real directory: index files, traversal, hidden files, symlinks.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "yizhan/http/static_files.hpp"

namespace fs = std::filesystem;
using yizhan::http::StaticFiles;

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("yizhan-static-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "web" / "pos");
    std::ofstream(root_ / "web" / "index.html") << "<h1>驿站</h1>" << std::string(400, ' ');
    std::ofstream(root_ / "web" / "pos" / "index.html") << "pos";
    std::ofstream(root_ / "web" / ".env") << "secret";
    std::ofstream(root_ / "secret.txt") << "outside";
    fs::create_symlink(root_ / "secret.txt", root_ / "web" / "leak.txt");
    fs::create_symlink(root_ / "web" / "pos" / "index.html", root_ / "web" / "inside.html");
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
};

TEST_F(StaticFilesTest, ServesIndexFilesForRootAndFolders) {
  StaticFiles files(root_ / "web");
  auto home = files.find("/");
  ASSERT_TRUE(home);
  EXPECT_EQ(home->content_type, "text/html; charset=utf-8");
  EXPECT_TRUE(home->gzip_body);
  auto pos = files.find("/pos/");
  ASSERT_TRUE(pos);
  EXPECT_EQ(*pos->body, "pos");
}

TEST_F(StaticFilesTest, NeverLeavesTheRoot) {
  StaticFiles files(root_ / "web");
  for (const char* path : {"/../secret.txt", "/pos/../../secret.txt", "/leak.txt", "/.env",
                           "//etc/passwd", "/..", "/pos/..\\..\\secret.txt", "secret.txt"}) {
    EXPECT_FALSE(files.find(path)) << path;
  }
  EXPECT_TRUE(files.find("/inside.html")) << "a symlink that stays inside is fine";
}

TEST_F(StaticFilesTest, NoticesAChangedFile) {
  StaticFiles files(root_ / "web");
  const auto before = files.find("/pos/index.html");
  ASSERT_TRUE(before);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  std::ofstream(root_ / "web" / "pos" / "index.html") << "pos v2";
  const auto after = files.find("/pos/index.html");
  ASSERT_TRUE(after);
  EXPECT_EQ(*after->body, "pos v2");
  EXPECT_NE(after->etag, before->etag);
}

TEST_F(StaticFilesTest, OneCacheEntryPerCanonicalPath) {
  std::ofstream(root_ / "web" / "a.css") << "a { color: red; }";
  StaticFiles files(root_ / "web");
  for (const char* path : {"/a.css", "/./a.css", "//a.css", "/pos/../a.css", "/./pos/./../a.css"})
    (void)files.find(path);
  EXPECT_TRUE(files.find("/./a.css"));
  EXPECT_FALSE(files.find("/pos/../a.css")) << "no parent references at all";
  EXPECT_EQ(files.cached_files(), 1u);
  EXPECT_EQ(StaticFiles::canonical_key("//x/./y.css"), "x/y.css");
}

TEST_F(StaticFilesTest, UnknownPathsCreateNoEntries) {
  StaticFiles files(root_ / "web");
  for (int i = 0; i < 2000; ++i)
    EXPECT_FALSE(files.find("/missing-" + std::to_string(i) + ".css"));
  EXPECT_EQ(files.cached_files(), 0u);
  EXPECT_EQ(files.cached_bytes(), 0u);
}

TEST_F(StaticFilesTest, StaysWithinItsByteBoundLeastRecentlyUsedOut) {
  for (int i = 0; i < 20; ++i)
    std::ofstream(root_ / "web" / ("f" + std::to_string(i) + ".bin")) << std::string(10000, 'x');
  const std::size_t bound = 64 * 1024;
  StaticFiles files(root_ / "web", {}, bound);
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 20; ++i) {
      const auto file = files.find("/f" + std::to_string(i) + ".bin");
      ASSERT_TRUE(file) << i;
      EXPECT_EQ(file->body->size(), 10000u);
      EXPECT_LE(files.cached_bytes(), bound);
    }
  }
  EXPECT_GT(files.cached_files(), 0u);
  EXPECT_LT(files.cached_files(), 20u);
  // A file larger than the whole bound is served, never kept.
  std::ofstream(root_ / "web" / "huge.bin") << std::string(bound * 2, 'h');
  EXPECT_TRUE(files.find("/huge.bin"));
  EXPECT_LE(files.cached_bytes(), bound);
}
