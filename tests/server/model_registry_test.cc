#include "server/model_registry.h"

#include <atomic>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/training_run.h"
#include "tests/server/model_registry_test_util.h"

namespace bnmlp {
namespace {

using ::bnmlp::registry_testing::Perturbed;
using ::bnmlp::registry_testing::SmallConfig;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const int64_t kMaxParameters = RegistryLimits().max_parameters;

TEST(ValidateModelNameTest, AcceptsTheDocumentedAlphabet) {
  EXPECT_TRUE(ValidateModelName("a").ok());
  EXPECT_TRUE(ValidateModelName("Fashion-MNIST_v1.2").ok());
  EXPECT_TRUE(ValidateModelName("9lives").ok());
  EXPECT_TRUE(ValidateModelName(std::string(64, 'x')).ok());
}

TEST(ValidateModelNameTest, RejectsBadNamesNamingTheField) {
  for (const std::string& name :
       {std::string(), std::string(65, 'x'), std::string("-leading"),
        std::string(".hidden"), std::string("has space"),
        std::string("slash/name"), std::string("nul\0byte", 8)}) {
    const absl::Status status = ValidateModelName(name);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << name;
    EXPECT_THAT(status.message(), HasSubstr("name:")) << name;
  }
}

TEST(ModelRegistryTest, CreatePublishesVersionOne) {
  ModelRegistry registry({});
  absl::StatusOr<ModelStatus> created = registry.Create("m", SmallConfig());
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->name, "m");
  EXPECT_EQ(created->version, 1);
  EXPECT_EQ(created->training_state, TrainingState::kUntrained);
  EXPECT_EQ(created->parameter_count,
            CountParameters({2, 4, 2}, Normalization::kPreActivation));
  absl::StatusOr<ModelSnapshot> snapshot = registry.GetSnapshot("m");
  ASSERT_TRUE(snapshot.ok());
  EXPECT_EQ(snapshot->version, 1);
  ASSERT_NE(snapshot->model, nullptr);
  EXPECT_EQ(snapshot->model->input_size(), 2);
}

TEST(ModelRegistryTest, DuplicateNameIsAlreadyExists) {
  ModelRegistry registry({});
  ASSERT_TRUE(registry.Create("m", SmallConfig()).ok());
  EXPECT_EQ(registry.Create("m", SmallConfig()).status().code(),
            absl::StatusCode::kAlreadyExists);
}

TEST(ModelRegistryTest, ModelLimitIsResourceExhausted) {
  ModelRegistry registry({/*max_models=*/2, kMaxParameters, nullptr});
  ASSERT_TRUE(registry.Create("a", SmallConfig()).ok());
  ASSERT_TRUE(registry.Create("b", SmallConfig()).ok());
  const absl::Status status = registry.Create("c", SmallConfig()).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(status.message(), HasSubstr("--max_models"));
  ASSERT_TRUE(registry.Delete("a").ok());
  EXPECT_TRUE(registry.Create("c", SmallConfig()).ok());
}

TEST(ModelRegistryTest, ModelsReserveFromTheMemoryBudgetUntilDeleted) {
  const int64_t model_bytes = ModelMemoryBytes(SmallConfig());
  // Room for one model and, while it is created, its fold's transient
  // memory (half a model's more), not for two.
  std::shared_ptr<MemoryBudget> memory = MemoryBudget::Create(
      model_bytes * 2 + model_bytes / 4, "--max_memory_bytes");
  ModelRegistry registry({/*max_models=*/4, kMaxParameters, memory});
  ASSERT_TRUE(registry.Create("a", SmallConfig()).ok());
  EXPECT_EQ(memory->used(), model_bytes);
  const absl::Status status = registry.Create("b", SmallConfig()).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(status.message(), HasSubstr("model 'b'"));
  EXPECT_THAT(status.message(), HasSubstr("(--max_memory_bytes)"));
  EXPECT_EQ(registry.List().size(), 1u);  // nothing created
  ASSERT_TRUE(registry.Delete("a").ok());
  EXPECT_EQ(memory->used(), 0);
  EXPECT_TRUE(registry.Create("b", SmallConfig()).ok());
}

TEST(ModelRegistryTest, ParameterLimitIsCheckedBeforeAllocating) {
  ModelRegistry registry({/*max_models=*/4, /*max_parameters=*/1000, nullptr});
  ModelConfig huge = SmallConfig();
  // 2^62 x 2^62 would overflow any naive product and exhaust memory.
  huge.layer_sizes = {int64_t{1} << 62, int64_t{1} << 62, 2};
  EXPECT_EQ(registry.Create("huge", huge).status().code(),
            absl::StatusCode::kResourceExhausted);
  ModelConfig big = SmallConfig();
  big.layer_sizes = {100, 100, 2};
  EXPECT_EQ(registry.Create("big", big).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(registry.List().empty());
}

TEST(ModelRegistryTest, InsertPublishesTheGivenParametersAsVersionOne) {
  ModelRegistry registry({});
  const Model<float> model = Perturbed(*Model<float>::Create(SmallConfig()));
  absl::StatusOr<ModelStatus> inserted = registry.Insert("imported", model);
  ASSERT_TRUE(inserted.ok()) << inserted.status();
  EXPECT_EQ(inserted->version, 1);
  EXPECT_EQ(inserted->training_state, TrainingState::kUntrained);
  EXPECT_EQ(inserted->config.layer_sizes, SmallConfig().layer_sizes);
  absl::StatusOr<ModelSnapshot> snapshot = registry.GetSnapshot("imported");
  ASSERT_TRUE(snapshot.ok());
  EXPECT_EQ(snapshot->model->layer(0).weight, model.layer(0).weight);
  // An inserted model trains like any other.
  EXPECT_TRUE(registry.StartTraining("imported", "tester").ok());
}

TEST(ModelRegistryTest, InsertChecksNameLimitsAndParameters) {
  ModelRegistry registry({/*max_models=*/1, /*max_parameters=*/1000, nullptr});
  const Model<float> model = *Model<float>::Create(SmallConfig());
  EXPECT_EQ(registry.Insert("bad name", model).status().code(),
            absl::StatusCode::kInvalidArgument);
  ModelConfig big = SmallConfig();
  big.layer_sizes = {100, 100, 2};
  EXPECT_EQ(registry.Insert("big", *Model<float>::Create(big)).status().code(),
            absl::StatusCode::kResourceExhausted);
  Model<float> misshapen = model;
  misshapen.mutable_layer(0).gamma.resize(3);
  absl::Status status = registry.Insert("m", misshapen).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("layer 1 gamma: expected 4 values"));
  Model<float> infinite = model;
  infinite.mutable_layer(1).bias(0) = std::numeric_limits<float>::infinity();
  status = registry.Insert("m", infinite).status();
  EXPECT_THAT(status.message(), HasSubstr("layer 2 bias: expected finite"));
  EXPECT_TRUE(registry.List().empty());
  ASSERT_TRUE(registry.Insert("m", model).ok());
  EXPECT_EQ(registry.Insert("m", model).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(registry.Insert("n", model).status().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(ModelRegistryTest, UnknownAndInvalidNames) {
  ModelRegistry registry({});
  EXPECT_EQ(registry.GetSnapshot("nope").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(registry.GetStatus("nope").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(registry.Delete("nope").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(registry.StartTraining("nope", "t").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(registry.GetSnapshot("bad name").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.Create("", SmallConfig()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ModelRegistryTest, ListIsSortedByName) {
  ModelRegistry registry({});
  for (const char* name : {"zeta", "alpha", "mid"}) {
    ASSERT_TRUE(registry.Create(name, SmallConfig()).ok());
  }
  std::vector<std::string> names;
  for (const ModelStatus& status : registry.List())
    names.push_back(status.name);
  EXPECT_THAT(names, ElementsAre("alpha", "mid", "zeta"));
}

TEST(ModelRegistryTest, ConcurrentCreatesRespectTheModelLimit) {
  ModelRegistry registry({/*max_models=*/5, kMaxParameters, nullptr});
  std::vector<std::thread> threads;
  std::atomic<int> created{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&registry, &created, t] {
      for (int i = 0; i < 4; ++i) {
        if (registry.Create("m" + std::to_string(t * 4 + i), SmallConfig())
                .ok()) {
          ++created;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(created.load(), 5);
  EXPECT_EQ(registry.List().size(), 5u);
}

}  // namespace
}  // namespace bnmlp
