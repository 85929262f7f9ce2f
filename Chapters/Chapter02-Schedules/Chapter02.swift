print("Chapter02-Schedules: under construction")
