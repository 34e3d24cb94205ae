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
